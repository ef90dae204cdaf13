"""Integration tests against a real PostgreSQL (and a real Prefect server on PostgreSQL).

The server is named by DRIFTFLOW_TEST_POSTGRES_URL (a SQLAlchemy URL with rights to create databases).
When it cannot be reached the tests are skipped, or failed when DRIFTFLOW_REQUIRE_POSTGRES=1 (as in CI).
Each session creates its own databases, suffixed with the process id so that concurrent sessions on one
server do not drop each other's, and drops them at the end.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

import tasks.source.readers as readers
from tasks.db import redacted
from tests.prefect_server import prefect_server

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

CreateDatabase = Callable[[str], str]


def libpq_url(url: str | sa.URL) -> str:
    """A SQLAlchemy URL as libpq (psycopg.connect) reads it."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The server's admin URL; skips the session's PostgreSQL tests (or fails them in CI) when unreachable."""
    url = os.environ.get("DRIFTFLOW_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        psycopg.connect(libpq_url(url), connect_timeout=2).close()
    except psycopg.Error as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = f"PostgreSQL not reachable at {redacted(url)}; set DRIFTFLOW_TEST_POSTGRES_URL ({cause})"
        if os.environ.get("DRIFTFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture(scope="session", autouse=True)
def _postgres_checked_first(postgres_url: str) -> None:
    """Every test here needs PostgreSQL: skip (or fail) before anything slow, like a Prefect server, starts."""


@pytest.fixture(scope="session")
def create_database(postgres_url: str) -> Iterator[CreateDatabase]:
    """`create_database("wh")` makes a fresh, empty database and returns its SQLAlchemy (psycopg) URL."""
    created: list[str] = []
    counter = itertools.count()

    def execute(statement: sql.Composed) -> None:
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as conn:
            conn.execute(statement)

    def create(label: str) -> str:
        name = f"driftflow_test_{label}_{os.getpid()}_{next(counter)}"
        execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return sa.make_url(postgres_url).set(drivername="postgresql+psycopg", database=name) \
            .render_as_string(hide_password=False)

    yield create
    for name in created:
        execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def refuse_fallback(patch: pytest.MonkeyPatch) -> None:
    """Make a fallback to SQLAlchemy inside `read_frame` fail the test: the ConnectorX path must serve it."""
    patch.setattr(readers, "read_frame_sqlalchemy", lambda *_: pytest.fail("read_frame fell back to SQLAlchemy"))


@pytest.fixture()
def postgres_env(driftflow_home: Path, create_database: CreateDatabase, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DRIFTFLOW_WAREHOUSE_URL and DRIFTFLOW_STORE_URL on fresh PostgreSQL databases (artifacts in tmp)."""
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", create_database("wh"))
    monkeypatch.setenv("DRIFTFLOW_STORE_URL", create_database("store"))
    return driftflow_home


@pytest.fixture(scope="session")
def prefect_database(create_database: CreateDatabase) -> str:
    """The fresh database the session's Prefect server on PostgreSQL keeps its state in (psycopg URL)."""
    return create_database("prefect")


@pytest.fixture(scope="session")
def prefect_postgres_server(prefect_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start` on a fresh PostgreSQL database; yields its API URL.

    Configured as in production (docs/postgresql.md): PREFECT_SERVER_DATABASE_CONNECTION_URL with asyncpg,
    host and port through PREFECT_SERVER_API_HOST/PORT. Nothing in this process's Prefect settings changes:
    tests point at it with `temporary_settings(PREFECT_API_URL=…)`.
    """
    database = sa.make_url(prefect_database).set(drivername="postgresql+asyncpg")
    home = tmp_path_factory.mktemp("prefect-postgres")
    with prefect_server(home, PREFECT_SERVER_DATABASE_CONNECTION_URL=database.render_as_string(hide_password=False),
                        PREFECT_SERVER_UI_ENABLED="false") as base_url:
        yield f"{base_url}/api"
