"""Exact [start, end) windows in UTC, whatever type the warehouse stores the timestamp column as.

Two stages, so that the window is exact and the warehouse still uses its index on the timestamp column:

1. In SQL, a condition that selects every row of the window (a superset at worst), on the bare column:
   - `tz` (PostgreSQL `timestamptz`, DuckDB `TIMESTAMPTZ`): bounds bound as UTC instants with an explicit
     `+00:00`, so the session's TimeZone plays no part. Exact.
   - `naive` (PostgreSQL/DuckDB `timestamp` or `date`): bounds as wall-clock times in `source.timezone`. Exact
     when that zone is UTC; otherwise widened by a few hours, because around a DST change local wall-clock
     time does not follow UTC monotonically.
   - `text` (SQLite, whose "native" SQLAlchemy DateTime is text too; text columns elsewhere): ISO strings compare
     as strings only within one format (`'2024-01-08'` < `'2024-01-08 00:00:00'`, and a `T` sorts after a space),
     so the indexable condition is on whole days, one day wider on each side than any offset can move a date
     (`ts >= 'YYYY-MM-DD' AND ts < 'YYYY-MM-DD'`). On SQLite with UTC timestamps, both sides are then also
     normalised with `strftime('%Y-%m-%d %H:%M:%f', …)` (which applies any stored offset) to drop the extra days;
     text it cannot parse is kept, so that stage 2 reports it.
2. In pandas, the column is parsed to UTC (naive values are in `source.timezone`; values with an offset keep it)
   and the rows are cut to exactly start <= ts < end, to the nanosecond.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pandas._libs.tslibs.nattype import NaTType

from tasks.errors import DataError

Kind = Literal["tz", "naive", "text"]

SQLITE_INSTANT = "%Y-%m-%d %H:%M:%f"  # SQLite's normal form: UTC, milliseconds (truncated, so monotone)
DST_MARGIN = timedelta(hours=3)  # larger than any DST shift in the tz database
DAY_MARGIN = timedelta(days=1)  # larger than any UTC offset (at most 14 h)
_POSTGRES_TZ, _POSTGRES_NAIVE = {1184}, {1114, 1082}  # timestamptz; timestamp, date
_OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)


def timestamp_kind(dialect: str, type_code: Any) -> Kind:
    """How the warehouse stores the timestamp column, from the driver's description of a zero-row SELECT."""
    if dialect == "sqlite":
        return "text"  # SQLite has no timestamp type: SQLAlchemy's DateTime writes ISO text
    if dialect == "postgresql":
        if type_code in _POSTGRES_TZ:
            return "tz"
        return "naive" if type_code in _POSTGRES_NAIVE else "text"
    name = str(type_code).upper()
    if "WITH TIME ZONE" in name or "TIMESTAMPTZ" in name:
        return "tz"
    if any(word in name for word in ("VARCHAR", "STRING", "TEXT", "CHAR")):
        return "text"
    return "naive"  # other dialects: a native timestamp compared as configured (the pandas cut stays exact)


def window_condition(dialect: str, kind: Kind, column: str, zone: str, start: datetime,
                     end: datetime) -> sa.ColumnElement[bool]:
    """The SQL condition selecting at least every row of [start, end) (see the module docstring)."""
    ts: sa.ColumnClause[Any] = sa.column(column)
    start, end = _utc(start), _utc(end)
    if kind == "tz":
        return sa.and_(ts >= sa.bindparam("start", start, type_=sa.DateTime(timezone=True)),
                       ts < sa.bindparam("end", end, type_=sa.DateTime(timezone=True)))
    if kind == "naive":
        if zone == "UTC":
            lo, hi = start.replace(tzinfo=None), end.replace(tzinfo=None)
        else:
            lo, hi = (wall_clock(m, zone) for m in (start - DST_MARGIN, end + DST_MARGIN))
        return sa.and_(ts >= sa.bindparam("start", lo, type_=sa.DateTime()),
                       ts < sa.bindparam("end", hi, type_=sa.DateTime()))
    days = sa.and_(ts >= sa.bindparam("start_day", (start - DAY_MARGIN).date().isoformat(), type_=sa.String()),
                   ts < sa.bindparam("end_day", (end + 2 * DAY_MARGIN).date().isoformat(), type_=sa.String()))
    if dialect != "sqlite" or zone != "UTC":
        return days
    normal = sa.func.strftime(SQLITE_INSTANT, ts)
    bound = lambda name, moment: sa.func.strftime(  # noqa: E731 - two uses
        SQLITE_INSTANT, sa.bindparam(name, moment.strftime("%Y-%m-%d %H:%M:%S.%f"), type_=sa.String()))
    # BETWEEN evaluates strftime once per row; its upper end is inclusive (a superset); NULL (text SQLite cannot
    # parse) counts as inside, so that the parser below reports it
    exact = sa.func.coalesce(normal.between(bound("start", start), bound("end", end)), sa.true())
    return sa.and_(days, exact)


def wall_clock(moment: datetime, zone: str) -> datetime:
    """`moment` as the naive wall-clock time in `zone`."""
    return _utc(moment).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def to_utc(values: pd.Series, zone: str, where: str) -> pd.Series:
    """Timestamps as stored (native, or ISO text with or without an offset, or dates) to UTC datetimes.

    Naive values are wall-clock times in `zone`: a repeated hour (DST ending) is read as its first occurrence,
    a skipped one (DST starting) is moved forward. `where` names the file and field for the error message.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(UTC)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return _localize(values, zone)
    present = values.dropna()
    if present.empty:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if not all(isinstance(v, str) for v in present):
        return _objects_to_utc(values, zone, where)
    try:  # one format for the whole column (the usual case): one vectorised parse
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # mixed offsets: object dtype, handled below
            parsed = pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError):
        parsed = None  # offsets mixed with naive values, or text that is not a timestamp: value by value below
    if parsed is not None and pd.api.types.is_datetime64_any_dtype(parsed.dtype) \
            and parsed.notna().sum() == len(present):
        return _localize(parsed, zone)
    text = values.where(values.isna(), values.astype(str).str.strip())
    offset = text.notna() & text.str.contains(_OFFSET, na=False)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    naive = text.notna() & ~offset
    try:
        if offset.any():
            result[offset] = pd.to_datetime(text[offset], format="ISO8601", utc=True)
        if naive.any():
            result[naive] = _localize(pd.to_datetime(text[naive], format="ISO8601"), zone)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{where}: timestamps that are not ISO 8601 ({_first_bad(text)!r}…): {exc}") from exc
    return result


def cut(frame: pd.DataFrame, column: str, start: datetime, end: datetime) -> pd.DataFrame:
    """The rows with start <= column < end (a UTC datetime column), in their order, index reset."""
    ts = frame[column]
    keep = (ts >= pd.Timestamp(_utc(start))) & (ts < pd.Timestamp(_utc(end)))
    return frame if bool(keep.all()) else frame[keep].reset_index(drop=True)


def _localize(values: pd.Series, zone: str) -> pd.Series:
    if values.dt.tz is not None:
        return values.dt.tz_convert(UTC)
    values = values.astype("datetime64[ns]")
    if zone == "UTC":
        return values.dt.tz_localize(UTC)
    first = np.ones(len(values), dtype=bool)
    return values.dt.tz_localize(ZoneInfo(zone), ambiguous=first, nonexistent="shift_forward").dt.tz_convert(UTC)


def _objects_to_utc(values: pd.Series, zone: str, where: str) -> pd.Series:
    """Python datetimes or dates (drivers that return objects), some possibly with a zone."""
    def one(value: object) -> pd.Timestamp | NaTType:
        if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
            return pd.NaT
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if not isinstance(value, datetime):
            raise DataError(f"{where}: a timestamp stored as {type(value).__name__} ({value!r}); store ISO text "
                            "or a native timestamp")
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(zone))
        return pd.Timestamp(value).tz_convert(UTC)

    return pd.Series([one(v) for v in values], index=values.index, dtype="datetime64[ns, UTC]")


def _first_bad(text: pd.Series) -> str:
    for value in text.dropna():
        if pd.isna(pd.to_datetime(value, format="ISO8601", errors="coerce", utc=True)):
            return str(value)
    return str(text.dropna().iloc[0])


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
