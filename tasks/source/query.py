"""Queries on the warehouse source: only the needed columns, only a window's rows, in a total order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import get_engine, redacted, utc_naive
from tasks.errors import MissingColumnsError, WarehouseUnavailable
from tasks.settings import warehouse_url
from tasks.source.readers import read_frame


def source_selectable(config: ModelConfig) -> sa.FromClause:
    """The configured table, or the configured SQL as a subquery; identifiers are quoted by SQLAlchemy."""
    if config.source.table:
        return sa.table(config.source.table)
    return sa.text(config.source.sql or "").columns().subquery("source")


def source_columns(engine: sa.Engine, config: ModelConfig) -> list[str]:
    """The column names the source offers, from a zero-row SELECT (no dialect-specific catalog queries)."""
    if config.source.table and not sa.inspect(engine).has_table(config.source.table):
        raise MissingColumnsError(f"table {config.source.table!r} does not exist in the warehouse")
    query = sa.select(sa.text("*")).select_from(source_selectable(config)).where(sa.false())
    with engine.connect() as conn:
        return list(conn.execute(query).keys())


def window_query(config: ModelConfig, columns: list[str], start: datetime, end: datetime,
                 *, labelled_only: bool = False) -> sa.Select:
    """SELECT the columns for [start, end) ordered by time; times bound as parameters."""
    src = source_selectable(config)
    ts: sa.ColumnClause[Any] = sa.column(config.source.timestamp)
    selected: list[sa.ColumnClause[Any]] = [sa.column(c) for c in columns]
    query: sa.Select[Any] = (sa.select(*selected).select_from(src)
             .where(ts >= sa.bindparam("start", utc_naive(start), type_=sa.DateTime()),
                    ts < sa.bindparam("end", utc_naive(end), type_=sa.DateTime()))
             .order_by(ts, sa.column(config.source.id)))  # a total order: the same rows in the same order anywhere
    if labelled_only:
        query = query.where(sa.column(config.columns.target.column).is_not(None))
    return query


def read_range(config: ModelConfig, columns: list[str], start: datetime, end: datetime,
               url: str | None = None, *, labelled_only: bool = False) -> pd.DataFrame:
    """Rows of [start, end) with those of `columns` the source has; timestamps come back as UTC.

    A missing timestamp or id column is an error (the window cannot be cut); any other missing column is
    left out, so that validation reports it by name and the window ends as data_invalid.
    """
    url = url or warehouse_url()
    engine = get_engine(url)
    try:
        available = set(source_columns(engine, config))
        required = [c for c in (config.source.timestamp, config.source.id) if c not in available]
        if required:
            where = config.source.table or "the configured SQL"
            raise MissingColumnsError(f"{where} lacks the configured timestamp/id column(s): {', '.join(required)}")
        if labelled_only and config.columns.target.column not in available:
            labelled_only, columns = False, []  # no labels at all: an empty labelled window
        present = [c for c in columns if c in available] or [config.source.id]
        query = window_query(config, present, start, end, labelled_only=labelled_only)
        frame = read_frame(engine, query if columns else query.limit(0))
    except sa.exc.OperationalError as exc:
        raise WarehouseUnavailable(f"warehouse {redacted(url)} unavailable: {exc.orig}") from exc
    ts = config.source.timestamp
    if ts in frame:
        frame[ts] = pd.to_datetime(frame[ts], utc=True)
    return frame
