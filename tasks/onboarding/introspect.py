"""What a source offers: its columns, each with a kind (numeric, text, time, boolean) read from a sample.

`driftflow init` proposes a model's roles from this. A table is read through SQLAlchemy's inspector for its
declared types; a SELECT (or a SQLite column declared without a type) is judged by its values. Only a
LIMITed sample is read: onboarding a billion-row log must not pull it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd
import sqlalchemy as sa

from tasks.db import redacted, warehouse_engine
from tasks.errors import SourceError, WarehouseUnavailable

Kind = Literal["numeric", "integer", "text", "time", "boolean", "unknown"]
SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class ColumnInfo:
    """One column of the source as the sample shows it."""

    name: str
    kind: Kind
    distinct: int  # distinct non-null values in the sample
    nulls: float  # share of NULLs in the sample
    unique: bool  # every sampled value distinct and none NULL


@dataclass(frozen=True)
class SourceInfo:
    where: str  # "table weather" or "the configured SQL"
    columns: list[ColumnInfo]
    sample: pd.DataFrame

    def column(self, name: str) -> ColumnInfo | None:
        return next((c for c in self.columns if c.name == name), None)


def source_from(table: str | None, sql: str | None) -> sa.FromClause:
    """The table, or the SELECT as a subquery (the same shapes the monitor reads)."""
    if table:
        return sa.table(table)
    return sa.text(sql or "").columns().subquery("source")


def describe(table: str | None, sql: str | None) -> str:
    return f"table {table}" if table else "the configured SQL"


def introspect_source(url: str, table: str | None = None, sql: str | None = None,
                      sample_rows: int = SAMPLE_ROWS) -> SourceInfo:
    """The source's columns and their kinds, from the declared types (a table) and a sample of rows."""
    engine = warehouse_engine(url)  # read-only: a mistyped SQLite path is named, never created
    where = describe(table, sql)
    try:
        if table and not sa.inspect(engine).has_table(table):
            known = ", ".join(sorted(sa.inspect(engine).get_table_names())) or "none"
            raise SourceError(f"table {table!r} does not exist in the warehouse {redacted(url)} (tables: {known})")
        declared = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(table)} if table else {}
        query = sa.select(sa.text("*")).select_from(source_from(table, sql)).limit(sample_rows)
        with engine.connect() as conn:
            sample = pd.read_sql(query, conn)
    except sa.exc.DBAPIError as exc:
        if isinstance(exc, sa.exc.OperationalError) and not _reachable(engine):
            detail = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
            raise WarehouseUnavailable(f"warehouse {redacted(url)} unavailable (the URL comes from "
                                       f"DRIFTFLOW_WAREHOUSE_URL): {detail}") from exc
        raise SourceError(f"{where} cannot be read: {' '.join(str(exc.orig).split())}") from exc
    columns = [_info(name, sample[name], declared.get(name)) for name in sample.columns]
    return SourceInfo(where, columns, sample)


def _reachable(engine: sa.Engine) -> bool:
    """Whether the warehouse answers at all: an error then lies in the query (SQLite reports both alike)."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError:
        return False
    return True


def _info(name: str, values: pd.Series, declared: object) -> ColumnInfo:
    present = values.dropna()
    return ColumnInfo(name=name, kind=kind_of(values, declared), distinct=int(present.nunique()),
                      nulls=float(values.isna().mean()) if len(values) else 0.0,
                      unique=bool(len(present) == len(values) and present.is_unique and len(values) > 0))


def kind_of(values: pd.Series, declared: object = None) -> Kind:
    """The column's kind: its declared SQL type where it says, else what its values are."""
    if isinstance(declared, sa.Boolean) or pd.api.types.is_bool_dtype(values):
        return "boolean"
    if isinstance(declared, sa.DateTime | sa.Date) or pd.api.types.is_datetime64_any_dtype(values):
        return "time"
    if isinstance(declared, sa.Integer) or pd.api.types.is_integer_dtype(values):
        return "integer"
    if isinstance(declared, sa.Numeric | sa.Float) or pd.api.types.is_float_dtype(values):
        return "integer" if _whole(values) and not isinstance(declared, sa.Float) else "numeric"
    present = values.dropna()
    if present.empty:
        return "unknown"
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "integer" if _whole(present.astype(float)) else "numeric"
    if parses_as_time(present):
        return "time"
    return "text"


def parses_as_time(values: pd.Series) -> bool:
    """Whether text values are dates or date-times (ISO with a space or a 'T', with or without fractions)."""
    texts = values.dropna().astype(str)
    if texts.empty or not texts.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    try:
        pd.to_datetime(texts, format="ISO8601", utc=True)
    except (ValueError, TypeError):
        return False
    return True


def _whole(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(len(present) and (present == present.round()).all())
