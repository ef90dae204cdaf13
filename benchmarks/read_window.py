"""Read one window of the inference log from PostgreSQL: plain `pd.read_sql` against driftflow's reader.

    .venv/bin/python benchmarks/read_window.py --rows 1000000 [--url postgresql+psycopg://…] [--repeat 3]

The table `bench_flight_predictions_<rows>` (flights-delay schema, one week) is created with COPY on the
first run and reused afterwards. Both approaches run the same window query, interleaved, in the same process.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import sqlalchemy as sa
from psycopg import sql

from tasks.config import load_model_config
from tasks.source.query import read_range, window_query
from tasks.source.readers import read_frame
from tests.factories import flights_batch

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/driftflow_bench"
START = datetime(2013, 1, 7, tzinfo=UTC)
CHUNK = 250_000
PG_TYPES = {"i": "bigint", "f": "double precision", "M": "timestamp", "O": "text"}


def libpq(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: sa.URL) -> None:
    """Create the benchmark database if the server lacks it (connecting to `postgres` to do so)."""
    with psycopg.connect(libpq(url.set(database="postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(url.database))))


def ensure_table(url: sa.URL, table: str, rows: int) -> None:
    """N synthetic rows spread over one week, loaded once with COPY; reused when already complete."""
    with psycopg.connect(libpq(url)) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if exists and exists[0] and conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone() == (rows,):
            print(f"reusing {table} ({rows:,} rows)")
            return
        started = time.perf_counter()
        sample = flights_batch(1, start=START)
        columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[t.kind]))
                                     for c, t in sample.dtypes.items())
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), columns))
        copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(sql.Identifier(table))
        with conn.cursor().copy(copy_sql) as copy:
            for seed, offset in enumerate(range(0, rows, CHUNK)):
                chunk = flights_batch(min(CHUNK, rows - offset), seed=seed, start=START)
                chunk["scheduled_at"] = chunk["scheduled_at"].dt.tz_localize(None)
                buffer = io.StringIO()
                chunk.to_csv(buffer, index=False, header=False)
                copy.write(buffer.getvalue())
        conn.execute(sql.SQL("CREATE INDEX ON {} (scheduled_at)").format(sql.Identifier(table)))
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    print(f"created {table}: {rows:,} rows in {time.perf_counter() - started:.1f} s")


def best_of(repeat: int, runs: dict[str, Callable[[], pd.DataFrame]]) -> dict[str, tuple[float, int]]:
    """Run each approach `repeat` times, interleaved; keep the fastest time and the row count."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    counts: dict[str, int] = {}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            counts[name] = len(run())
            times[name].append(time.perf_counter() - started)
    return {name: (min(values), counts[name]) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("DRIFTFLOW_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    url = sa.make_url(args.url)
    table = f"bench_flight_predictions_{args.rows}"
    ensure_database(url)
    ensure_table(url, table, args.rows)
    engine = sa.create_engine(url)
    config = load_model_config("flights-delay")
    config = config.model_copy(update={"source": config.source.model_copy(update={"table": table})})
    window = (START, START + timedelta(days=7))
    query = window_query(config, config.monitored_columns, *window)

    def plain() -> pd.DataFrame:
        with engine.connect() as conn:
            return pd.read_sql(query, conn)

    pd.testing.assert_frame_equal(read_frame(engine, query), plain(), check_exact=True)  # same frame
    results = best_of(args.repeat, {
        "pd.read_sql via SQLAlchemy (plain)": plain,
        "driftflow read_frame (ConnectorX)": lambda: read_frame(engine, query),
        "driftflow read_range (+ columns, UTC)": lambda: read_range(config, config.monitored_columns, *window,
                                                                    url=args.url),
    })
    baseline = results["pd.read_sql via SQLAlchemy (plain)"][0]
    print(f"\nwindow of {table}, {len(config.monitored_columns)} columns, best of {args.repeat}\n")
    print(f"{'approach':<40}{'rows':>11}{'seconds':>10}{'rows/s':>12}{'speed-up':>10}")
    for name, (seconds, rows) in results.items():
        print(f"{name:<40}{rows:>11,}{seconds:>10.2f}{rows / seconds:>12,.0f}{baseline / seconds:>9.1f}x")


if __name__ == "__main__":
    main()
