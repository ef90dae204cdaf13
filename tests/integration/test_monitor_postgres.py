"""The monitor flow with its warehouse and store on PostgreSQL, and Prefect's own server on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from flows.monitor import STATE_NAMES, monitor
from tasks.config import ModelConfig
from tasks.db import get_engine
from tasks.settings import store_url
from tasks.store.windows import count_window_rows, window_runs
from tests.integration.conftest import CreateDatabase, libpq_url, refuse_fallback
from tests.support import FEATURES_BREACH, copy_project, log_week, seed_monitored, week, window_end

pytestmark = pytest.mark.postgres

SEASON_SHIFT = {"temp": 40.0, "wind_speed": 15.0, "distance": 800.0}
EXPECTED = ["ok", "warn", "drift", "insufficient_data", "data_invalid"]


@pytest.fixture()
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelConfig:
    return copy_project(tmp_path, monkeypatch, **FEATURES_BREACH)  # input shifts breach at once


def monitor_five_weeks(config: ModelConfig) -> list[dict[str, Any]]:
    """Seed a champion, serve five weeks (plain, shifted, shifted, none, unknown carriers) and monitor each."""
    seed_monitored(config)
    log_week(config, week(1, seed=1))
    log_week(config, week(2, seed=12, shifts=SEASON_SHIFT))
    log_week(config, week(3, seed=13, shifts=SEASON_SHIFT))
    unseen = week(5, seed=5)
    unseen.loc[unseen.index[::20], "carrier"] = "ZZ"
    log_week(config, unseen)
    return [dict(monitor(model=config.name, window_end=window_end(n), actions=False)) for n in range(1, 6)]


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on the backend: verdict, counts, drifted columns and their scores, performance."""
    keep = ("verdict", "reasons", "row_count", "labelled_rows", "reference_version", "window_start", "window_end")
    return {**{k: summary[k] for k in keep},
            "drifted": {c["column"]: pytest.approx(c["score"], rel=1e-9) for c in summary["drifted_columns"]},
            "performance": None if summary["performance"] is None
            else pytest.approx(summary["performance"]["value"], rel=1e-9)}


def test_verdicts_on_postgresql_equal_those_on_sqlite(
        prefect_server: None, config: ModelConfig, driftflow_home: Path, create_database: CreateDatabase,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same five weeks give the same verdicts, reasons, drift scores and records whether the warehouse
    and the store are the embedded SQLite file or PostgreSQL (every window read through ConnectorX)."""
    on_sqlite = monitor_five_weeks(config)
    assert [s["verdict"] for s in on_sqlite] == EXPECTED
    sqlite_records = stored_records(config)

    monkeypatch.setenv("DRIFTFLOW_HOME", str(tmp_path / "postgres-home"))
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", create_database("wh"))
    monkeypatch.setenv("DRIFTFLOW_STORE_URL", create_database("store"))
    refuse_fallback(monkeypatch)
    on_postgres = monitor_five_weeks(config)

    assert [comparable(s) for s in on_postgres] == [comparable(s) for s in on_sqlite]
    assert stored_records(config) == sqlite_records
    assert [r["status"] for r in window_runs(get_engine(store_url()), config.name)] == EXPECTED[::-1]


def stored_records(config: ModelConfig) -> list[dict[str, int]]:
    """How many rows each store table holds for each of the five windows."""
    store = get_engine(store_url())
    return [count_window_rows(store, config.name, window_end(n)) for n in range(1, 6)]


def test_a_monitor_run_on_a_prefect_server_backed_by_postgresql(
        prefect_postgres_server: str, prefect_database: str, postgres_env: Path, config: ModelConfig) -> None:
    """Against `prefect server start` on PostgreSQL, a monitor run ends Completed, named after its verdict,
    is stored in Prefect's PostgreSQL database, and its id is recorded with the window in the store."""
    with temporary_settings({PREFECT_API_URL: prefect_postgres_server, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        seed_monitored(config)
        log_week(config, week(1, seed=1))
        state = monitor(model=config.name, window_end=window_end(1), actions=False, return_state=True)
        flow_run_id = state.state_details.flow_run_id
        assert flow_run_id is not None
        with get_client(sync_client=True) as client:
            flow_run = client.read_flow_run(flow_run_id)

    assert flow_run.state is not None and flow_run.state.is_completed()
    assert flow_run.state.name == STATE_NAMES["ok"]
    assert flow_run.name.startswith("flights-delay 2013-")
    with psycopg.connect(libpq_url(prefect_database)) as conn:
        assert conn.execute("SELECT state_name FROM flow_run WHERE id = %s", (flow_run_id,)).fetchone() == ("OK",)
    runs = window_runs(get_engine(store_url()), config.name)
    assert [(r["status"], r["flow_run_id"]) for r in runs] == [("ok", str(flow_run_id))]

