"""`source.pull: aggregates`: the monitor counts and validates the features inside PostgreSQL, and decides as
the monitor that pulls every row does."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from flows.monitor import monitor
from tasks.config import ModelConfig
from tasks.db import get_engine
from tasks.errors import ConfigError
from tasks.settings import store_url
from tasks.store.windows import window_runs
from tests.integration.conftest import CreateDatabase
from tests.integration.test_monitor_postgres import EXPECTED, monitor_five_weeks
from tests.support import FEATURES_BREACH, copy_project, window_end

pytestmark = pytest.mark.postgres


def on_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, create_database: CreateDatabase, name: str,
                **changes: Any) -> ModelConfig:
    """The flights model (features breach) with its own home, warehouse and store on PostgreSQL."""
    monkeypatch.setenv("DRIFTFLOW_HOME", str(tmp_path / f"{name}-home"))
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", create_database(f"wh{name}"))
    monkeypatch.setenv("DRIFTFLOW_STORE_URL", create_database(f"store{name}"))
    return copy_project(tmp_path / name, monkeypatch, **FEATURES_BREACH, **changes)


def drifted(summary: dict[str, Any]) -> dict[str, float]:
    return {c["column"]: c["score"] for c in summary["drifted_columns"]}


def test_counted_in_the_warehouse_decides_as_the_pulled_rows(
        prefect_server: None, driftflow_home: Path, create_database: CreateDatabase, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Five weeks (plain, shifted twice, empty, unseen carriers): the same verdicts, validation outcomes and
    drifted columns, scores within the stated error; a rerun changes nothing; the report is a sample."""
    pulled = monitor_five_weeks(on_postgres(tmp_path, monkeypatch, create_database, "rows"))
    config = on_postgres(tmp_path, monkeypatch, create_database, "aggregates", source__pull="aggregates")
    counted = monitor_five_weeks(config)

    assert [s["verdict"] for s in counted] == [s["verdict"] for s in pulled] == EXPECTED
    for rows, aggregates in zip(pulled, counted, strict=True):
        assert aggregates["row_count"] == rows["row_count"]
        assert aggregates["labelled_rows"] == rows["labelled_rows"]
        if rows["verdict"] in ("data_invalid", "insufficient_data"):  # the suite's findings, word for word
            assert aggregates["reasons"] == rows["reasons"]
        assert set(drifted(aggregates)) == set(drifted(rows))
        for column, score in drifted(rows).items():
            assert drifted(aggregates)[column] == pytest.approx(score, rel=0.01)
    assert any("carrier" in reason for reason in counted[4]["reasons"])  # unseen carriers, counted per value

    audited = ("status", "reasons", "row_count", "labelled_rows", "data_fingerprint", "labels_fingerprint",
               "revision")

    def records() -> list[dict[str, Any]]:
        return [{k: r[k] for k in audited} for r in window_runs(get_engine(store_url()), config.name)]

    before = records()
    assert all(r["data_fingerprint"] for r in before if r["row_count"])
    again = dict(monitor(model=config.name, window_end=window_end(2), actions=False))
    assert again["verdict"] == counted[1]["verdict"] and again["revision"] == counted[1]["revision"]
    assert records() == before  # the same counts and fingerprints: not a new revision
    page = Path(counted[1]["report"]).read_text()
    assert "the warehouse drew by a hash of their ids" in page


def test_a_replay_needs_the_rows(prefect_server: None, driftflow_home: Path, create_database: CreateDatabase,
                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = on_postgres(tmp_path, monkeypatch, create_database, "replay", source__pull="aggregates")
    monitor_five_weeks(config)
    with pytest.raises(ConfigError, match="a replay scores the window's rows"):
        monitor(model=config.name, window_end=window_end(1), actions=False, replay=True)


def test_quarantine_needs_the_rows(prefect_server: None, driftflow_home: Path, create_database: CreateDatabase,
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A suite that would leave rows out blocks the window with a reason naming the setting, never passes."""
    config = on_postgres(tmp_path, monkeypatch, create_database, "quarantine", source__pull="aggregates")
    path = Path(os.environ["DRIFTFLOW_PROJECT_DIR"]) / "expectations" / "flights-delay.json"
    suite = json.loads(path.read_text())
    row_level = next(e for e in suite["expectations"] if e["type"].startswith("expect_column_values"))
    row_level["meta"] = {"driftflow": {"action": "quarantine"}}
    path.write_text(json.dumps(suite))
    first = monitor_five_weeks(config)[0]
    assert first["verdict"] == "data_invalid"
    assert any("quarantines rows" in r and "source.pull: aggregates" in r for r in first["reasons"])
