"""Drift aggregates computed inside a PostgreSQL warehouse: only counts per bucket and category leave it.

For a window too large to pull, the warehouse summarises each monitored column against the reference
profile (`tasks.monitor.profile`), and `tasks.monitor.scores_pushdown` scores the summaries:

- a numeric column is cut at the reference's own values (`bucket_edges`: its distinct values, or as many of
  its quantiles as `max_edges` allows) with `width_bucket`; per bucket the warehouse returns the count, sum,
  minimum and maximum of the window's finite values (nulls, NaN and infinities are left out, as Evidently
  leaves them out);
- a categorical column is grouped by its values, normalised here exactly as the monitor normalises them
  (1, 1.0 and True are one category).

One query per column reads only that column of the window's rows; a few run at once, each on its own session.
The window condition is the monitor's own, and it must be exact in SQL: a `timestamptz` column, or a
`timestamp` column in UTC. Other warehouses and timestamp storages raise a `ConfigError` naming why.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tasks.config import ModelConfig
from tasks.db import warehouse_engine
from tasks.errors import ConfigError, MissingColumnsError
from tasks.monitor.profile import CategoricalProfile, NumericProfile, ReferenceProfile, label
from tasks.settings import warehouse_url
from tasks.source.failures import source_field
from tasks.source.query import SourceShape, describe_source, source_selectable, translated_errors, window_query
from tasks.source.readers import read_frame
from tasks.source.timestamps import to_utc, window_condition

SESSIONS = min(4, os.cpu_count() or 1)  # column queries at once (PostgreSQL runs each on one core)
MAX_EDGES = 4_096  # bucket edges per numeric column: the reference's distinct values, or its quantiles
DOUBLE: postgresql.DOUBLE_PRECISION[float] = postgresql.DOUBLE_PRECISION()


@dataclass(frozen=True)
class NumericBuckets:
    """A window's numeric column, bucketed at `edges`: bucket 0 holds values below edges[0], bucket i values
    in [edges[i-1], edges[i]), the last bucket values at or above edges[-1] (PostgreSQL's `width_bucket`)."""

    name: str
    edges: np.ndarray
    counts: np.ndarray  # len(edges) + 1 buckets
    sums: np.ndarray
    lows: np.ndarray  # smallest value in each bucket (NaN where empty)
    highs: np.ndarray
    nulls: int  # null, NaN or infinite: left out

    @property
    def rows(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class CategoryCounts:
    """A window's categorical column: rows per normalised category, and its nulls."""

    name: str
    counts: dict[str, int]
    nulls: int

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


ColumnAggregate = NumericBuckets | CategoryCounts


@dataclass(frozen=True)
class WindowAggregates:
    """Everything the drift scores need from one window, computed in the warehouse."""

    rows: int
    columns: dict[str, ColumnAggregate]


def bucket_edges(profile: NumericProfile, max_edges: int = MAX_EDGES) -> np.ndarray:
    """The reference's distinct values, or `max_edges` of its stored values at evenly spaced ranks, always
    with its smallest and largest (beyond them the reference's CDF is flat: the score is exact there)."""
    values = profile.values
    if len(values) <= max_edges:
        return np.asarray(values, dtype="float64")
    cumulative = np.cumsum(profile.weights)
    ranks = (np.arange(max_edges - 2) + 0.5) * cumulative[-1] / (max_edges - 2)
    inner = values[np.searchsorted(cumulative, ranks, side="left")]
    return np.unique(np.r_[values[0], inner, values[-1]].astype("float64"))


def exact_source(engine: sa.Engine, config: ModelConfig) -> SourceShape:
    """The source's shape, when the warehouse can count its windows exactly (ConfigError naming why not)."""
    shape = describe_source(engine, config)
    if shape.dialect != "postgresql":
        raise ConfigError(f"{config.name}: drift aggregates are computed in PostgreSQL warehouses, not "
                          f"{shape.dialect}; use source.pull: rows")
    if not (shape.kind == "tz" or (shape.kind == "naive" and config.source.timezone == "UTC")):
        raise ConfigError(f"{config.name}: {source_field(config)} column {config.source.timestamp!r} is not "
                          "compared exactly in SQL (a timestamptz, or a timestamp in UTC, is needed to count "
                          "a window inside the warehouse); use source.pull: rows")
    return shape


def window_aggregates(config: ModelConfig, start: datetime, end: datetime, profile: ReferenceProfile,
                      columns: list[str], url: str | None = None, max_edges: int = MAX_EDGES,
                      sessions: int = SESSIONS) -> WindowAggregates:
    """Count the window [start, end) of `columns` (profiled in `profile`) inside the warehouse, with up to
    `sessions` queries running at once."""
    url = url or warehouse_url()
    engine = warehouse_engine(url)
    with translated_errors(config, url):
        shape = exact_source(engine, config)
        missing = [c for c in columns if c not in shape.columns]
        if missing:
            raise MissingColumnsError(f"{source_field(config)} lacks column(s) {', '.join(missing)}")
        condition = window_condition(shape.dialect, shape.kind, config.source.timestamp, config.source.timezone,
                                     start, end)
        source = source_selectable(config)
        with engine.connect() as conn:
            rows = int(conn.execute(sa.select(sa.func.count()).select_from(source).where(condition)).scalar_one())

        def one(name: str) -> ColumnAggregate:
            column = profile[name]
            with engine.connect() as conn:  # one session per query: the warehouse runs them side by side
                # one worker per query: a sum adds its values in the same order every time, so a rerun of the
                # same rows gives the same scores to the last bit
                conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
                if isinstance(column, NumericProfile):
                    return _numeric(conn, source, condition, name, bucket_edges(column, max_edges), rows)
                assert isinstance(column, CategoricalProfile)
                return _categorical(conn, source, condition, name, rows)

        with ThreadPoolExecutor(max_workers=max(1, sessions)) as pool:
            found = dict(zip(columns, pool.map(one, columns), strict=True))
    return WindowAggregates(rows, found)


def _numeric(conn: sa.Connection, source: sa.FromClause, condition: sa.ColumnElement[bool], name: str,
             edges: np.ndarray, rows: int) -> NumericBuckets:
    value = sa.cast(sa.column(name), DOUBLE)
    finite = sa.and_(value > sa.literal_column("'-Infinity'::float8"),
                     value < sa.literal_column("'Infinity'::float8"))  # NaN sorts above Infinity: left out too
    bucket = sa.func.width_bucket(value, sa.bindparam("edges", edges.tolist(), type_=postgresql.ARRAY(DOUBLE)))
    query = (sa.select(bucket, sa.func.count(), sa.func.sum(value), sa.func.min(value), sa.func.max(value))
             .select_from(source).where(condition, finite).group_by(sa.literal_column("1")))
    size = len(edges) + 1
    counts, sums = np.zeros(size, dtype="int64"), np.zeros(size)
    lows, highs = np.full(size, np.nan), np.full(size, np.nan)
    for index, count, total, low, high in conn.execute(query):
        counts[index], sums[index], lows[index], highs[index] = count, total, low, high
    return NumericBuckets(name, edges, counts, sums, lows, highs, nulls=rows - int(counts.sum()))


def _categorical(conn: sa.Connection, source: sa.FromClause, condition: sa.ColumnElement[bool], name: str,
                 rows: int) -> CategoryCounts:
    column: Any = sa.column(name)
    query = (sa.select(column, sa.func.count()).select_from(source).where(condition, column.is_not(None))
             .group_by(column))
    counts: dict[str, int] = {}
    for value, count in conn.execute(query):
        key = label(float(value) if isinstance(value, Decimal) else value)  # as the reader returns decimals
        if key is not None:
            counts[key] = counts.get(key, 0) + int(count)
    return CategoryCounts(name, counts, nulls=rows - sum(counts.values()))


SAMPLE_FACTOR = 4  # the warehouse draws this many times the report's rows; the report then samples across time


def sample_window(config: ModelConfig, start: datetime, end: datetime, rows: int,
                  url: str | None = None) -> pd.DataFrame:
    """A reproducible sample of the window's monitored columns for its report: the rows whose ids hash first
    (md5), `SAMPLE_FACTOR` x `rows` of them, with timestamps in UTC as the monitor reads them."""
    url = url or warehouse_url()
    engine = warehouse_engine(url)
    ts = config.source.timestamp
    with translated_errors(config, url):
        shape = exact_source(engine, config)
        query = (window_query(config, config.monitored_columns, start, end, kind=shape.kind, dialect=shape.dialect)
                 .order_by(None).order_by(sa.func.md5(sa.cast(sa.column(config.source.id), sa.Text)))
                 .limit(SAMPLE_FACTOR * rows))
        frame = read_frame(engine, query)
    frame[ts] = to_utc(frame[ts], config.source.timezone, f"{source_field(config)}: source.timestamp {ts!r}")
    return frame.sort_values([ts, config.source.id], kind="mergesort").reset_index(drop=True)
