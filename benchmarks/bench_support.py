"""What the benchmark scripts share: the benchmark database, a Prefect server, and measured child processes.

Each approach a benchmark compares runs in a fresh child process, so its time and peak memory are its own:
the parent starts it, waits for it with `os.wait4` (which returns that child's own resource usage: peak RSS,
user and system CPU seconds) and reads the JSON the child prints as its last line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/driftflow_bench"
QUIET = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "TQDM_DISABLE": "1"}


def libpq(url: sa.URL) -> str:
    """A SQLAlchemy URL as libpq (psycopg.connect) reads it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: sa.URL) -> None:
    """Create the database `url` names if the server lacks it (connecting to `postgres` to do so)."""
    try:
        with psycopg.connect(libpq(url.set(database="postgres")), autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(url.database))))
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.exit(f"PostgreSQL is not reachable at {url.render_as_string(hide_password=True)} ({first}); "
                 "start it or pass --url / set DRIFTFLOW_BENCH_POSTGRES_URL")


def drop_database(url: sa.URL) -> None:
    """Drop the database `url` names (and its connections), if it exists."""
    with psycopg.connect(libpq(url.set(database="postgres")), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(url.database))))


def copy_frames(url: sa.URL, table: str, types: dict[str, str], frames: Iterable[Any]) -> None:
    """(Re)create `table` with columns `types` (name -> SQL type), load the pandas `frames` with COPY (CSV via
    Arrow, timestamps as microseconds), index `ts` and ANALYZE."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    with psycopg.connect(libpq(url)) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in types.items())))
        with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(sql.Identifier(table))) as copy:
            for frame in frames:
                arrow = pa.Table.from_pandas(frame, preserve_index=False)
                ts = arrow.schema.get_field_index("ts")
                arrow = arrow.set_column(ts, "ts", arrow.column(ts).cast(pa.timestamp("us")))
                buffer = io.BytesIO()
                pacsv.write_csv(arrow, buffer, pacsv.WriteOptions(include_header=False))
                copy.write(buffer.getvalue())
        conn.execute(sql.SQL("CREATE INDEX ON {} (ts)").format(sql.Identifier(table)))
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


def table_rows(url: sa.URL, table: str) -> int | None:
    """Rows of `table`, or None when it does not exist."""
    with psycopg.connect(libpq(url)) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if not found or not found[0]:
            return None
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        return int(row[0]) if row else 0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def group_cpu_seconds(group: int) -> float:
    """User and system CPU seconds of the live processes of process group `group` (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime are fields 14 and 15 of the full line
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def prefect_server(home: Path, database_url: str | None = None,
                   startup_seconds: float = 180) -> Iterator[tuple[str, int]]:
    """A `prefect server start` of its own (SQLite in `home`, or PostgreSQL at `database_url`, asyncpg);
    yields its API URL and process group id once healthy and stops it (its process group) afterwards.

    A benchmark talks to a running server as production does; without one each process would start a
    temporary server of its own and pay its start-up inside the measured time.
    """
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(QUIET, PREFECT_HOME=str(home), PREFECT_SERVER_API_HOST="127.0.0.1",
               PREFECT_SERVER_API_PORT=str(port), PREFECT_SERVER_UI_ENABLED="false")
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + startup_seconds
        while not _healthy(api_url):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the Prefect server did not become healthy at {api_url}:\n{tail}")
            time.sleep(0.5)
        # A production server has answered clients before: its first API request (0.3 s here, the
        # version check every client makes first) is paid now, not inside the first measured run
        with urllib.request.urlopen(f"{api_url}/admin/version", timeout=30) as response:
            response.read()
        yield api_url, server.pid
    finally:
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(server.pid, sig)
                server.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue


@dataclass(frozen=True)
class ChildRun:
    """One measured child process: wall seconds seen by the parent, its own peak RSS and CPU, its JSON."""

    wall: float
    peak_rss_mb: float
    cpu: float
    result: dict[str, Any]


def run_child(args: list[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run `python <args>` in a fresh process; its last stdout line must be a JSON object."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"child {' '.join(args)} exited with {child.returncode}:\n{output[-3000:]}")
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"child {' '.join(args)} printed no JSON result:\n{output[-3000:]}")
    return ChildRun(wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, json.loads(lines[-1]))
