"""Read a SELECT into pandas: Arrow-native (ConnectorX) on PostgreSQL, SQLAlchemy's `pd.read_sql` otherwise.

ConnectorX takes a SQL string without bound parameters, so the query's values are inlined as literals. Only
values the code binds itself may be inlined: the window's datetimes and integer limits, and strings made only
of digits and `-:. T` (the window's bounds as ISO text: no quote, no letter can carry SQL); a query binding
anything else is read through SQLAlchemy with real parameters.
Identifiers are plain identifiers (`tasks/config.py`) quoted by SQLAlchemy. Both paths return the same frame:
64-bit integers and floats, decimals as floats, timestamps as nanosecond datetimes (naive UTC as stored).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from types import ModuleType
from urllib.parse import quote, urlencode

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tasks.memory import release_freed_memory

log = logging.getLogger(__name__)

INLINE_SAFE = (datetime, date, int)  # the window's bounds and LIMITs; bool is refused separately
ISO_TEXT = re.compile(r"[0-9][0-9:. T-]{0,31}")  # a bound rendered as ISO text, nothing else
# "named" paramstyle: no parameters to escape for, so a '%' in configured SQL stays a single '%'.
_POSTGRES = postgresql.dialect(paramstyle="named")


class UnsafeLiteral(ValueError):
    """A bound value that must not be inlined into SQL text."""


def read_frame(engine: sa.Engine, query: sa.Select) -> pd.DataFrame:
    """Run `query` on `engine` and return a pandas DataFrame with plain numpy dtypes.

    PostgreSQL is read with ConnectorX when it is installed and the query binds only inline-safe values;
    whatever ConnectorX cannot read (a type it does not support, say) is read again through SQLAlchemy.
    """
    cx = _connectorx()
    sql = _inlined(query) if cx is not None and engine.dialect.name == "postgresql" else None
    if cx is not None and sql is not None:
        try:
            return arrow_to_pandas(cx.read_sql(connectorx_url(engine.url), sql, return_type="arrow"))
        except BaseException as exc:
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise  # KeyboardInterrupt and friends; a Rust panic (unsupported column type) falls back
            log.warning("ConnectorX could not read the query (%s); reading it through SQLAlchemy", exc)
    return read_frame_sqlalchemy(engine, query)


def read_frame_sqlalchemy(engine: sa.Engine, query: sa.Select) -> pd.DataFrame:
    """The portable path: `pd.read_sql` on a SQLAlchemy connection, values bound as parameters."""
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def inline_sql(query: sa.Select) -> str:
    """PostgreSQL SQL text of `query` with its bound values inlined; refuses values that are not inline-safe."""
    compiled = query.compile(dialect=_POSTGRES)
    for name, value in compiled.params.items():
        if isinstance(value, str) and ISO_TEXT.fullmatch(value):
            continue
        if value is not None and (isinstance(value, bool) or not isinstance(value, INLINE_SAFE)):
            raise UnsafeLiteral(f"parameter {name!r} binds a {type(value).__name__}, which is never inlined")
    return str(query.compile(dialect=_POSTGRES, compile_kwargs={"literal_binds": True}))


def connectorx_url(url: sa.URL) -> str:
    """`postgresql+psycopg://user:pass@host:port/db?…` as ConnectorX wants it: `postgresql://…`.

    The query is percent-encoded (`%20`, never `+`, which ConnectorX would pass on as a literal plus: an
    `options=-c TimeZone=…` would then fail to connect).
    """
    base = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    pairs = [(key, value) for key, values in url.query.items()
             for value in ((values,) if isinstance(values, str) else values)]
    return f"{base}?{urlencode(pairs, quote_via=quote)}" if pairs else base


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with the dtypes `pd.read_sql` gives: int64, float64 (decimals too), datetime64[ns].

    Arrow's buffers are released column by column as pandas takes them over (`self_destruct`): a million-row
    window is held about once at the peak, not twice; what they occupied is then handed back to the system, not
    kept for the steps after the read. `table` must not be used afterwards."""
    schema = pa.schema([field.with_type(_plain_type(field.type)) for field in table.schema])
    if not schema.equals(table.schema):
        table = table.cast(schema)
    frame = table.to_pandas(coerce_temporal_nanoseconds=True, self_destruct=True)
    del table
    release_freed_memory()
    return frame


def _inlined(query: sa.Select) -> str | None:
    try:
        return inline_sql(query)
    except UnsafeLiteral as exc:
        log.debug("reading through SQLAlchemy: %s", exc)
        return None


def _plain_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_integer(kind):
        return pa.int64()
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return pa.float64()
    return kind


def _connectorx() -> ModuleType | None:
    try:
        import connectorx
    except ImportError:
        return None
    return connectorx
