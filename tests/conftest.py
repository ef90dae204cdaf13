"""Shared fixtures: every test gets its own driftflow home, warehouse and store (SQLite files in tmp)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture()
def driftflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh DRIFTFLOW_HOME with the embedded SQLite warehouse and store (each its own file) inside it."""
    home = tmp_path / "driftflow"
    monkeypatch.setenv("DRIFTFLOW_HOME", str(home))
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", f"sqlite:///{home / 'warehouse.db'}")
    monkeypatch.setenv("DRIFTFLOW_STORE_URL", f"sqlite:///{home / 'store.db'}")
    monkeypatch.delenv("DRIFTFLOW_ARTIFACTS", raising=False)
    yield home


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One real Prefect test server (SQLite) per session, shared by tests/flows and tests/integration.

    Heartbeats are off to keep runs short. Folders whose tests all run flows request it from an autouse
    fixture in their conftest; unit tests never start it.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240), \
            temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
