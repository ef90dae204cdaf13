"""One schedule tick for many models: 100 monitored models x 10k-row windows, through Prefect, on two cores.

    uv run python benchmarks/many_models.py                        # 100 models, 10,000-row windows
    uv run python benchmarks/many_models.py --models 10 --rows 2000 --workers 2   # a quick run

Everything lives in PostgreSQL (`--url`, else DRIFTFLOW_BENCH_POSTGRES_URL, else the local server):
the warehouse tables `bench_many_<rows>_<i>` in `driftflow_bench` (a reference week and a window week per model,
the 26 columns of benchmarks/monitor_window.py, the window shifted), the monitoring store in
`driftflow_bench_many_store`, and the state of a Prefect server this script starts in `driftflow_bench_prefect`
(Prefect's SQLite backend answers 503 under bursts of runs; PostgreSQL does not). Each model gets its own
configuration and suite (`.driftflow/bench/many-models-<rows>/`) and is registered once through the public
`tasks.registry.register.register_model` (`--logged`). Later runs reuse the tables and registrations.

The tick: a pool of `--workers` processes (default: the number of cores) each imports driftflow once, then
calls the `monitor` flow for one model after another; every call is a real Prefect flow run (states, task
runs, artifacts on the server), and the pool size is the concurrency limit. It prints the time from the tick
to the last verdict recorded in the store (checked there), the per-run times, and Prefect's own per-run
overhead: the same pool runs an empty flow with as many no-op tasks as the monitor flow has.

Why a warm pool rather than a runner or worker starting a process per run: such a process first imports
Prefect, Great Expectations and Evidently (measured and printed as "fresh process start"), which alone would
take 100 x that / 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import (
    DEFAULT_URL,
    QUIET,
    ensure_database,
    group_cpu_seconds,
    libpq,
    load_average,
    prefect_server,
    run_child,
    table_rows,
)
from monitor_window import COLUMNS, START, WINDOW_END, frame_chunk, model_yaml, suite

ROOT = Path(__file__).resolve().parent.parent
MONITOR_TASKS = 10  # task runs in one monitor flow run (load-config … announce-window)


def model_name(i: int) -> str:
    return f"bench-m{i:03d}"


def ensure_tables(url: sa.URL, rows: int, models: int) -> list[str]:
    """Per model a reference week and a (shifted) window week of `rows` rows each, loaded once with COPY."""
    import io

    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from psycopg import sql

    tables = [f"bench_many_{rows}_{i:03d}" for i in range(models)]
    missing = [(i, t) for i, t in enumerate(tables) if table_rows(url, t) != 2 * rows]
    if not missing:
        print(f"reusing {models} tables bench_many_{rows}_* ({2 * rows:,} rows each)", flush=True)
        return tables
    started = time.perf_counter()
    types = {"id": "bigint", "ts": "timestamp", "c": "text"}
    with psycopg.connect(libpq(url)) as conn:
        for i, table in missing:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(types.get(c, types.get(c[0], "double precision"))))
                for c in COLUMNS)))
            copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(sql.Identifier(table))
            with conn.cursor().copy(copy_sql) as copy:
                for part, shift in ((0, False), (1, True)):
                    chunk = frame_chunk(rows, 7919 * i + part, 1 + part * rows, START + timedelta(days=7 * part),
                                        7 * 86400, shift)
                    arrow = pa.Table.from_pandas(chunk, preserve_index=False)
                    arrow = arrow.set_column(1, "ts", arrow.column("ts").cast(pa.timestamp("us")))
                    buffer = io.BytesIO()
                    pacsv.write_csv(arrow, buffer, pacsv.WriteOptions(include_header=False))
                    copy.write(buffer.getvalue())
            conn.execute(sql.SQL("CREATE INDEX ON {} (ts)").format(sql.Identifier(table)))
            conn.commit()
    print(f"created {len(missing)} tables in {time.perf_counter() - started:.1f} s", flush=True)
    return tables


def register_all(models: int) -> None:
    """Register each model's reference week (idempotent), in this process (runs in a child of the parent)."""
    from tasks.config import load_model_config
    from tasks.registry.register import register_model
    from tasks.store.engine import open_store

    store = open_store()
    created = 0
    for i in range(models):
        config = load_model_config(model_name(i))
        done = register_model(store, config, reference_start=START, reference_end=START + timedelta(days=7),
                              logged=True)
        created += done.created
    print(json.dumps({"registered": created, "already": models - created}), flush=True)


# ---------------------------------------------------------------- what the pool's workers run

def warm() -> float:
    """Import the monitor flow once per worker; returns the seconds it took."""
    started = time.perf_counter()
    import flows.monitor  # noqa: F401

    return time.perf_counter() - started


def monitor_one(model: str) -> dict[str, Any]:
    """One monitor flow run (a real Prefect flow run); its verdict and wall seconds."""
    from flows.monitor import monitor

    started, cpu = time.perf_counter(), time.process_time()
    summary: dict[str, Any] = dict(cast(Any, monitor(model=model, window_end=WINDOW_END, actions=False)))
    return {"model": model, "verdict": summary["verdict"], "seconds": time.perf_counter() - started,
            "cpu": time.process_time() - cpu,
            "pid": os.getpid(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def empty_one(_: int) -> tuple[float, float]:
    """Prefect's own cost of one flow run with MONITOR_TASKS task runs that do nothing."""
    from prefect import flow, task

    @task(name="noop")
    def noop(i: int) -> int:
        return i

    @flow(name="bench-overhead")
    def overhead() -> int:
        return sum(noop(i) for i in range(MONITOR_TASKS))

    started, cpu = time.perf_counter(), time.process_time()
    overhead()
    return time.perf_counter() - started, time.process_time() - cpu


# ---------------------------------------------------------------- the parent

def prepare(args: argparse.Namespace) -> Path:
    url = sa.make_url(args.url)
    ensure_database(url)
    store_url = url.set(database="driftflow_bench_many_store")
    ensure_database(store_url)
    tables = ensure_tables(url, args.rows, args.models)
    project = ROOT / ".driftflow" / "bench" / f"many-models-{args.rows}"
    if args.fresh:
        shutil.rmtree(project, ignore_errors=True)
        import psycopg
        from psycopg import sql

        with psycopg.connect(libpq(store_url.set(database="postgres")), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(str(store_url.database))))
        ensure_database(store_url)
    (project / "deployments" / "models").mkdir(parents=True, exist_ok=True)
    (project / "expectations").mkdir(parents=True, exist_ok=True)
    for i, table in enumerate(tables):
        (project / "deployments" / "models" / f"{model_name(i)}.yaml").write_text(model_yaml(table, model_name(i)))
        (project / "expectations" / f"{model_name(i)}.json").write_text(json.dumps(suite(model_name(i))))
    os.environ.update(QUIET, DRIFTFLOW_PROJECT_DIR=str(project), DRIFTFLOW_HOME=str(project / "home"),
                      DRIFTFLOW_WAREHOUSE_URL=url.render_as_string(hide_password=False),
                      DRIFTFLOW_STORE_URL=store_url.render_as_string(hide_password=False))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--register", "--models", str(args.models),
                           "--rows", str(args.rows)], check=True, capture_output=True, text=True)
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"registered {counts['registered']}, already registered {counts['already']} "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    return project


def recorded_verdicts(models: list[str]) -> dict[str, str]:
    """The verdicts the store holds for the tick's window: what 'recorded' means here."""
    from tasks.db import utc_naive
    from tasks.store.engine import open_store
    from tasks.store.schema import monitor_runs

    with open_store().connect() as conn:
        rows = conn.execute(sa.select(monitor_runs.c.model, monitor_runs.c.status).where(
            monitor_runs.c.model.in_(models), monitor_runs.c.window_end == utc_naive(WINDOW_END))).all()
    return {str(r.model): str(r.status) for r in rows}


def fresh_process_start() -> tuple[float, float]:
    """What a runner or worker pays before each run: a new Python process importing the monitor flow
    (wall and CPU seconds of that process)."""
    run = run_child(["-c", "import flows.monitor; print('{}')"])
    return run.wall, run.cpu


def tick(args: argparse.Namespace, project: Path) -> None:
    models = [model_name(i) for i in range(args.models)]
    with prefect_server(project / "prefect", database_url=args.prefect_database) as (api_url, server):
        os.environ["PREFECT_API_URL"] = api_url
        print(f"Prefect server at {api_url}; load average {load_average()}", flush=True)
        started = time.perf_counter()
        with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
            # one import per worker: submitted together, each worker takes one while the other imports
            imports = [f.result() for f in [pool.submit(warm) for _ in range(args.workers)]]
            warmed, server_cpu = time.perf_counter(), group_cpu_seconds(server)
            runs = []
            for future in as_completed([pool.submit(monitor_one, model) for model in models]):
                runs.append(future.result())
                last = runs[-1]
                print(f"{len(runs):>4}/{len(models)} {last['model']} {last['verdict']}: {last['seconds']:.1f} s, "
                      f"CPU {last['cpu']:.1f} s; tick at {time.perf_counter() - warmed:.0f} s", flush=True)
            finished, server_cpu = time.perf_counter(), group_cpu_seconds(server) - server_cpu
            recorded = recorded_verdicts(models)
            checked = time.perf_counter()
            empty = list(pool.map(empty_one, range(args.overhead_runs)))
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        fresh = fresh_process_start()
    seconds = sorted(r["seconds"] for r in runs)
    run_cpu = sum(r["cpu"] for r in runs)
    empty_wall, empty_cpu = [e[0] for e in empty], [e[1] for e in empty]
    verdicts: dict[str, int] = {}
    for run in runs:
        verdicts[run["verdict"]] = verdicts.get(run["verdict"], 0) + 1
    agree = sum(recorded.get(r["model"]) == r["verdict"] for r in runs)
    print(f"\n{args.models} models x {args.rows:,}-row windows (26 columns; reference {args.rows:,} rows), "
          f"{args.workers} worker processes, {os.cpu_count()} cores, load average after {load_average()}")
    print(f"workers started and warm (imports {statistics.mean(imports):.1f} s each): "
          f"{warmed - started:.1f} s")
    print(f"tick: {finished - warmed:.1f} s from the first run submitted to the last flow run finished; "
          f"{checked - warmed:.1f} s to all {len(recorded)} of {args.models} verdicts read back from the store "
          f"({agree} equal to the runs' own); {checked - started:.1f} s including worker start")
    print(f"verdicts: {verdicts}")
    print(f"per monitor run: mean {statistics.mean(seconds):.2f} s, median {statistics.median(seconds):.2f} s, "
          f"p95 {seconds[int(0.95 * (len(seconds) - 1))]:.2f} s, max {seconds[-1]:.2f} s; "
          f"throughput {args.models / (finished - warmed) * 60:.0f} runs/min")
    print(f"CPU of the tick: flow runs {run_cpu:.0f} s (mean {run_cpu / len(runs):.2f} s per run) + Prefect "
          f"server {server_cpu:.0f} s = {run_cpu + server_cpu:.0f} s, i.e. {(run_cpu + server_cpu) / 2:.0f} s "
          "of wall time on two otherwise idle cores")
    print(f"Prefect overhead per run (empty flow, {MONITOR_TASKS} no-op tasks, {args.overhead_runs} runs): "
          f"wall mean {statistics.mean(empty_wall):.2f} s, median {statistics.median(empty_wall):.2f} s; "
          f"client CPU mean {statistics.mean(empty_cpu):.2f} s")
    print(f"worker peak RSS: {max(r['peak_rss_mb'] for r in runs):,.0f} MB; workers' CPU "
          f"{cpu.ru_utime + cpu.ru_stime:.0f} s in all (imports and overhead runs included)")
    print(f"fresh process start (what a runner or worker pays per run before any work): {fresh[0]:.1f} s wall, "
          f"{fresh[1]:.1f} s CPU")
    if len(recorded) != args.models:
        sys.exit(f"only {len(recorded)} of {args.models} verdicts were recorded")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--rows", type=int, default=10_000, help="rows per window (and per reference)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="concurrent flow runs")
    parser.add_argument("--overhead-runs", type=int, default=10)
    parser.add_argument("--url", default=os.environ.get("DRIFTFLOW_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--prefect-database", default=None,
                        help="asyncpg URL of the Prefect server's database (default: driftflow_bench_prefect "
                             "on the same server)")
    parser.add_argument("--fresh", action="store_true", help="drop the store and register every model again")
    parser.add_argument("--register", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.register:
        register_all(args.models)
        return
    url = sa.make_url(args.url)
    if args.prefect_database is None:
        ensure_database(url.set(database="driftflow_bench_prefect"))
        args.prefect_database = url.set(drivername="postgresql+asyncpg", database="driftflow_bench_prefect") \
            .render_as_string(hide_password=False)
    project = prepare(args)
    tick(args, project)


if __name__ == "__main__":
    main()
