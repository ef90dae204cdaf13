"""The monitoring store's engine: created or upgraded to the current schema (Alembic), once per process."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from tasks.db import get_engine, redacted
from tasks.errors import StoreUnavailable
from tasks.settings import store_url

MIGRATIONS = Path(__file__).parent / "migrations"
_upgraded: set[str] = set()


def alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _name_outages(engine: sa.Engine, url: str) -> None:
    """A store that refuses a connection or drops one raises StoreUnavailable naming its setting, whichever
    statement met it (tasks touching the store retry on it: tasks.retries.STORE_OUTAGE)."""
    if getattr(engine, "_driftflow_outages_named", False):
        return

    def outage(context: sa.engine.ExceptionContext) -> None:
        if not (context.is_disconnect or context.connection is None):
            return  # a statement the store answered (a constraint, a lock): not an outage
        error = context.original_exception
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise StoreUnavailable(f"store {redacted(url)} unavailable (the URL comes from DRIFTFLOW_STORE_URL): "
                               f"{detail}") from error

    sa.event.listen(engine, "handle_error", outage)
    engine._driftflow_outages_named = True  # type: ignore[attr-defined]


def upgrade_store(url: str | None = None, revision: str = "head") -> sa.Engine:
    """Create or upgrade the store's tables in place (Alembic), once per process and URL.

    A store that cannot be connected to raises StoreUnavailable, naming the URL and its setting, then and on
    any later statement that loses the connection.
    """
    url = url or store_url()
    engine = get_engine(url)
    _name_outages(engine, url)
    if f"{url}@{revision}" not in _upgraded:
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as exc:
            detail = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
            raise StoreUnavailable(f"store {redacted(url)} unavailable (the URL comes from DRIFTFLOW_STORE_URL): "
                                   f"{detail}") from exc
        with connection, connection.begin():
            command.upgrade(alembic_config(connection), revision)
        _upgraded.add(f"{url}@{revision}")
    return engine


def open_store() -> sa.Engine:
    """The monitoring store named by the settings, upgraded to the current schema."""
    return upgrade_store(store_url())
