"""SQLAlchemy engines for the warehouse and the monitoring store, one per URL and process."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from tasks.errors import SourceError


@lru_cache(maxsize=8)
def get_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite files get their folder created, WAL and a busy timeout."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "duckdb":
        return sa.create_engine(url, poolclass=sa.pool.NullPool)  # a DuckDB file admits one process at a time
    return sa.create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def warehouse_engine(url: str) -> sa.Engine:
    """A read-only engine on the warehouse: reading a model's window never changes the user's database.

    A SQLite file is opened with `mode=ro` (no journal-mode switch, no file created for a mistyped path: a
    missing file is a `SourceError` naming the setting); PostgreSQL sessions are read-only transactions; a
    DuckDB file is opened `read_only`. The monitoring store has its own engine (`get_engine`), which may use WAL.
    """
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:"):
        path = Path(parsed.database)
        if not path.is_file():
            raise SourceError(f"DRIFTFLOW_WAREHOUSE_URL: the SQLite warehouse {path} does not exist")
        read_only = parsed.set(database=f"file:{quote(str(path.resolve()))}",
                               query={**parsed.query, "mode": "ro", "uri": "true"})
        return sa.create_engine(read_only, connect_args={"timeout": 60})
    if backend == "duckdb":
        return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"read_only": True})
    if backend == "postgresql":
        return sa.create_engine(url, pool_pre_ping=True, execution_options={"postgresql_readonly": True})
    return get_engine(url)


def utc_naive(moment: datetime) -> datetime:
    """The UTC wall-clock time without a zone: how every table here stores timestamps."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def as_utc(moment: datetime) -> datetime:
    """A stored (naive UTC) timestamp back to an aware one."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return sa.make_url(url).render_as_string(hide_password=True)
