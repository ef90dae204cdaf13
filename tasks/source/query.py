"""Queries on the warehouse source: only the needed columns, only a window's rows, in a total order.

The window is cut exactly in UTC whatever the timestamp column's storage (`tasks/source/timestamps.py`);
errors are named for what they are (`tasks/source/failures.py`); the warehouse is opened read-only
(`tasks.db.warehouse_engine`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import warehouse_engine
from tasks.errors import MissingColumnsError
from tasks.settings import warehouse_url
from tasks.source.failures import read_failure, source_field
from tasks.source.readers import read_frame
from tasks.source.timestamps import Kind, cut, timestamp_kind, to_utc, window_condition


@dataclass(frozen=True)
class SourceShape:
    """What a zero-row SELECT tells about the source: its columns and how the timestamp is stored."""

    columns: list[str]
    dialect: str
    kind: Kind


def source_selectable(config: ModelConfig) -> sa.FromClause:
    """The configured table, or the configured SQL as a subquery; identifiers are quoted by SQLAlchemy.

    Colons in the configured SQL are escaped: `':b'` in a string literal (or a `::int` cast) is SQL text,
    never a bind parameter.
    """
    if config.source.table:
        return sa.table(config.source.table)
    return sa.text((config.source.sql or "").replace(":", r"\:")).columns().subquery("source")


def source_columns(engine: sa.Engine, config: ModelConfig) -> list[str]:
    """The column names the source offers, from a zero-row SELECT (no dialect-specific catalog queries)."""
    return describe_source(engine, config).columns


def describe_source(engine: sa.Engine, config: ModelConfig) -> SourceShape:
    """The source's columns and its timestamp column's storage kind, from one zero-row SELECT."""
    if config.source.table and not sa.inspect(engine).has_table(config.source.table):
        raise MissingColumnsError(f"{source_field(config)} does not exist in the warehouse")
    query = sa.select(sa.text("*")).select_from(source_selectable(config)).where(sa.false())
    with engine.connect() as conn:
        result = conn.execute(query)
        description = result.cursor.description if result.cursor is not None else None
        columns = list(result.keys())
        result.close()
    codes = {d[0]: d[1] for d in description or []}
    dialect = engine.dialect.name
    return SourceShape(columns, dialect, timestamp_kind(dialect, codes.get(config.source.timestamp)))


def window_query(config: ModelConfig, columns: list[str], start: datetime, end: datetime,
                 *, labelled_only: bool = False, kind: Kind = "naive", dialect: str = "postgresql") -> sa.Select:
    """SELECT the columns for at least [start, end) ordered by time; times bound as parameters.

    The condition is exact for native timestamps in UTC and a superset otherwise; `read_range` cuts the rest.
    """
    src = source_selectable(config)
    ts: sa.ColumnClause[Any] = sa.column(config.source.timestamp)
    selected: list[sa.ColumnClause[Any]] = [sa.column(c) for c in columns]
    condition = window_condition(dialect, kind, config.source.timestamp, config.source.timezone, start, end)
    query: sa.Select[Any] = (sa.select(*selected).select_from(src).where(condition)
             .order_by(ts, sa.column(config.source.id)))  # a total order: the same rows in the same order anywhere
    if labelled_only:
        query = query.where(sa.column(config.columns.target.column).is_not(None))
    return query


def read_range(config: ModelConfig, columns: list[str], start: datetime, end: datetime,
               url: str | None = None, *, labelled_only: bool = False) -> pd.DataFrame:
    """Rows of exactly [start, end) with those of `columns` the source has; timestamps come back as UTC.

    A missing timestamp or id column is an error (the window cannot be cut); any other missing column is
    left out, so that validation reports it by name and the window ends as data_invalid.
    """
    url = url or warehouse_url()
    engine = warehouse_engine(url)
    ts, key = config.source.timestamp, config.source.id
    with translated_errors(config, url):
        shape = describe_source(engine, config)
        required = [c for c in (ts, key) if c not in shape.columns]
        if required:
            raise MissingColumnsError(f"{source_field(config)} lacks the configured timestamp/id column(s) "
                                      f"(source.timestamp, source.id): {', '.join(required)}")
        if labelled_only and config.columns.target.column not in shape.columns:
            labelled_only, columns = False, []  # no labels at all: an empty labelled window
        present = [c for c in columns if c in shape.columns] or [key]
        fetched = present if ts in present else [*present, ts]
        query = window_query(config, fetched, start, end, labelled_only=labelled_only, kind=shape.kind,
                             dialect=shape.dialect)
        frame = read_frame(engine, query if columns else query.limit(0))
    frame[ts] = to_utc(frame[ts], config.source.timezone, f"{source_field(config)}: source.timestamp {ts!r}")
    frame = cut(frame, ts, start, end)
    if not frame[ts].is_monotonic_increasing:  # text of mixed formats sorts as text in SQL: order by instant
        frame = frame.sort_values([c for c in (ts, key) if c in frame], kind="mergesort").reset_index(drop=True)
    return frame if ts in present else frame.drop(columns=[ts])


@contextmanager
def translated_errors(config: ModelConfig, url: str) -> Iterator[None]:
    """Driver errors become a SourceError naming the model file and field, or WarehouseUnavailable."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise read_failure(exc, config, url) from exc
