"""One pass against two reads for a window and its labelled (matured) window, on SQLite TEXT and PostgreSQL.

    .venv/bin/python benchmarks/read_window_pass.py --rows 500000 [--pg postgresql+psycopg://…/driftflow_bench]

Rows span three weeks (flights-delay schema, `scheduled_at` as ISO text with a 'T' on SQLite, `timestamptz`
on PostgreSQL); the window is the last week with the model's 2-day label delay. Prints the best of --repeat.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa

from tasks.config import load_model_config
from tasks.db import get_engine
from tasks.results import Window
from tasks.source.query import read_range
from tasks.source.window import compact_dtypes, labelled_columns, read_window
from tests.factories import flights_batch

START = datetime(2013, 1, 7, tzinfo=UTC)


def best(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def load(url: str, rows: int, text: bool) -> None:
    frame = flights_batch(rows, seed=1, start=START, days=21)
    if text:
        frame["scheduled_at"] = frame["scheduled_at"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    with get_engine(url).begin() as conn:
        frame.to_sql("flight_predictions", conn, index=False, if_exists="replace", chunksize=50_000)
        conn.execute(sa.text("CREATE INDEX IF NOT EXISTS fp_at ON flight_predictions (scheduled_at)"))


def measure(name: str, url: str, repeat: int) -> None:
    config = load_model_config("flights-delay")
    end = START + timedelta(days=21)
    delay = config.columns.target.label_delay
    window = Window(start=end - timedelta(days=7), end=end, labelled_start=end - timedelta(days=7) - delay,
                    labelled_end=end - delay)

    def two_reads() -> None:
        read_range(config, config.monitored_columns, window.start, window.end, url)
        read_range(config, labelled_columns(config), window.labelled_start, window.labelled_end, url,
                   labelled_only=True)

    current, _ = read_window(config, window, url)
    mem = current.memory_usage(deep=True).sum() / 2**20
    mem_compact = compact_dtypes(current, config).memory_usage(deep=True).sum() / 2**20
    print(f"{name}: {len(current):,} rows in the window; two reads {best(two_reads, repeat):.2f} s, "
          f"one pass {best(lambda: read_window(config, window, url), repeat):.2f} s; "
          f"memory {mem:.1f} MiB, with categoricals {mem_compact:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--pg", default=None, help="a PostgreSQL database URL to load and read (optional)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'warehouse.db'}"
        load(url, args.rows, text=True)
        measure("SQLite TEXT", url, args.repeat)
    if args.pg:
        pg = sa.make_url(args.pg)
        with psycopg.connect(pg.set(drivername="postgresql", database="postgres")
                             .render_as_string(hide_password=False), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (pg.database,)).fetchone():
                conn.execute(f'CREATE DATABASE "{pg.database}"')
        load(args.pg, args.rows, text=False)
        measure("PostgreSQL timestamptz", args.pg, args.repeat)


if __name__ == "__main__":
    main()
