"""Connection URLs from Prefect Secret blocks: the monitor runs on them, and their password is written nowhere."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tasks.config import load_model_config
from tasks.db import get_engine
from tasks.errors import ConfigError
from tasks.ops.secrets import forget_resolved
from tasks.settings import store_url, warehouse_url
from tests.integration.conftest import CreateDatabase
from tests.support import log_week, seed_monitored, week, window_end

pytestmark = pytest.mark.postgres

PASSWORD = "Pw-9f3kXq-NeverWritten"  # PostgreSQL here trusts local connections: the password is carried, unused


def with_password(url: str) -> str:
    return sa.make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


def occurrences(folder: Path, needle: bytes) -> list[str]:
    """Every file under `folder` whose bytes contain `needle` (SQLite databases and their WAL included)."""
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def store_dump(url: str) -> str:
    """Every row of every table of the store, as text."""
    engine = get_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        return "\n".join(repr(list(conn.execute(sa.select(t)))) for t in metadata.sorted_tables)


def prefect_database_folder() -> Path:
    """The folder of the test server's SQLite database (the harness keeps it in a temporary folder)."""
    from prefect.settings import get_current_settings

    url = sa.make_url(str(get_current_settings().server.database.connection_url.get_secret_value()))
    assert url.get_backend_name() == "sqlite", url
    return Path(str(url.database)).parent


def test_urls_from_secret_blocks_run_the_monitor_and_leak_nowhere(
        prefect_server: None, driftflow_home: Path, create_database: CreateDatabase,
        monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    """With DRIFTFLOW_WAREHOUSE_URL_BLOCK and DRIFTFLOW_STORE_URL_BLOCK naming Secret blocks whose URLs carry a
    password, a monitor run reads and records through them, and the password appears in no log, artifact,
    event, run parameter or block row of the Prefect database, in no store row, no artifact file and no output."""
    from prefect.blocks.system import Secret

    monkeypatch.delenv("DRIFTFLOW_WAREHOUSE_URL")
    monkeypatch.delenv("DRIFTFLOW_STORE_URL")
    warehouse, store = with_password(create_database("wh")), with_password(create_database("store"))
    prefect_home = prefect_database_folder()
    Secret(value=warehouse).save("test-warehouse")
    Secret(value={"url": store}).save("test-store")
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL_BLOCK", "test-warehouse")
    monkeypatch.setenv("DRIFTFLOW_STORE_URL_BLOCK", "secret/test-store")
    forget_resolved()
    assert warehouse_url() == warehouse and store_url() == store

    from flows.monitor import monitor

    config = seed_monitored(load_model_config("flights-delay"))
    log_week(config, week(1, seed=31, shifts={"temp": 40.0, "wind_speed": 15.0}))
    summary = monitor(model=config.name, window_end=window_end(1), actions=False)
    assert summary["verdict"] in ("warn", "drift")  # type: ignore[index]
    time.sleep(3)  # events are sent in the background; let the server write them
    forget_resolved()

    needle = PASSWORD.encode()
    assert occurrences(prefect_home, needle) == [], "the password reached the Prefect database or server log"
    assert occurrences(driftflow_home, needle) == [], "the password reached an artifact or local file"
    assert PASSWORD not in store_dump(store)
    out, err = capfd.readouterr()
    assert PASSWORD not in out + err
    assert occurrences(prefect_home, b"test-warehouse"), "the search did not read the Prefect database"


def test_a_missing_block_names_the_setting(prefect_server: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A block name that the server does not know ends in one message naming the variable and the block."""
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL_BLOCK", "no-such-block")
    forget_resolved()
    with pytest.raises(ConfigError, match="DRIFTFLOW_WAREHOUSE_URL_BLOCK: no secret block named 'no-such-block'"):
        warehouse_url()
    forget_resolved()
