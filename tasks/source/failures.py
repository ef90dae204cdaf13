"""A failed read named for what it is: the user's query or table (fix the config) or an outage (retry).

Drivers report both through the same exception types (SQLite says "no such table" with an OperationalError,
as PostgreSQL says "connection refused"), so the driver's own code decides: PostgreSQL's SQLSTATE classes 08
(connection), 53 (resources), 57P (shutdown) and 58 (system) are outages, every other SQLSTATE is the query's
fault; SQLite is an outage only when the file is busy, locked or unreadable; DuckDB's catalog, binder and parser
errors are the query's fault. Anything unknown that the driver calls "operational" stays an outage.
"""

from __future__ import annotations

import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.config.load import config_path
from tasks.db import redacted
from tasks.errors import SourceError, WarehouseUnavailable

OUTAGE_SQLSTATES = ("08", "53", "57P", "58")
SQLITE_OUTAGES = ("locked", "busy", "disk i/o", "unable to open", "readonly database")
QUERY_FAULTS = ("Catalog Error", "Binder Error", "Parser Error", "Conversion Error", "syntax error", "no such")


def source_field(config: ModelConfig) -> str:
    """`<file>: source.table 'name'` or `<file>: source.sql`, for messages."""
    where = f"source.table {config.source.table!r}" if config.source.table else "source.sql"
    return f"{config_path(config.name)}: {where}"


def read_failure(exc: sa.exc.DBAPIError, config: ModelConfig, url: str) -> SourceError:
    """The DriftflowError to raise for a driver error met while reading the source."""
    detail = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
    if is_outage(exc):
        return WarehouseUnavailable(f"warehouse {redacted(url)} unavailable (an outage, worth a retry; the URL "
                                    f"comes from DRIFTFLOW_WAREHOUSE_URL): {detail}")
    return SourceError(f"{source_field(config)}: the warehouse refused the query: {detail}")


def is_outage(exc: sa.exc.DBAPIError) -> bool:
    """Whether the error says the warehouse could not serve (rather than that the query is wrong)."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate.startswith(OUTAGE_SQLSTATES)
    message = str(exc.orig).lower()
    if exc.orig.__class__.__module__.startswith("sqlite3"):
        return any(word in message for word in SQLITE_OUTAGES)
    if any(fault.lower() in message for fault in QUERY_FAULTS):
        return False
    return isinstance(exc, sa.exc.OperationalError)
