"""The monitor flow end to end: real Prefect server, real Great Expectations and Evidently, SQLite stores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flows.monitor import monitor
from tasks.config import ModelConfig
from tasks.db import get_engine
from tasks.monitor.record import read_history
from tasks.settings import store_url
from tasks.store.windows import count_window_rows
from tests.flows.conftest import log_week, week, window_end, write_predictions
from tests.support import seed_monitored

SEASON_SHIFT = {"temp": 40.0, "wind_speed": 15.0, "distance": 800.0}


def run(n: int, **kwargs: Any) -> dict[str, Any]:
    return dict(monitor(model="flights-delay", window_end=window_end(n), **kwargs))


def test_an_unshifted_week_is_ok_and_fully_recorded(monitored: ModelConfig) -> None:
    """A week like the reference ends `ok`, with its drift, validation and performance in the store."""
    log_week(monitored, week(1, seed=1))
    summary = run(1)
    assert summary["verdict"] == "ok", summary["reasons"]
    assert summary["row_count"] == 1500
    assert summary["reference_version"] == "v1"
    assert summary["performance"]["value"] is not None
    assert Path(summary["report"]).is_file()
    counts = count_window_rows(get_engine(store_url()), "flights-delay", window_end(1))
    assert counts["monitor_runs"] == 1
    assert counts["column_drift"] == 12  # 10 features, the prediction, the target
    assert counts["validation_results"] > 10
    assert counts["performance"] == 1


def test_the_next_window_reads_the_recorded_breaches_and_performance(monitored: ModelConfig) -> None:
    """The history the policy gets for the next window: the persistence rule's earlier windows, oldest first,
    with their breach flags and the performance they recorded (None where no window was recorded)."""
    log_week(monitored, week(1, seed=1))
    summary = run(1)
    history = read_history.fn(get_engine(store_url()), monitored, window_end(2))
    assert history.breaches == [None, False]
    missing, recorded = history.performance
    assert missing is None and recorded is not None
    assert recorded.metric == monitored.performance.metric
    assert recorded.value == pytest.approx(summary["performance"]["value"])
    assert recorded.ci_low is not None and recorded.ci_high is not None and recorded.allowance is not None
    assert recorded.drop == pytest.approx(recorded.reference_value - recorded.value)


def test_a_rerun_of_the_same_window_overwrites_its_records(monitored: ModelConfig) -> None:
    """Running a window twice leaves exactly one set of records for it, with the same verdict."""
    log_week(monitored, week(1, seed=1))
    first = run(1)
    before = count_window_rows(get_engine(store_url()), "flights-delay", window_end(1))
    second = run(1)
    after = count_window_rows(get_engine(store_url()), "flights-delay", window_end(1))
    assert before == after and after["monitor_runs"] == 1
    assert first["verdict"] == second["verdict"]


def test_drift_needs_persistence(monitored: ModelConfig) -> None:
    """The first shifted week only warns (1 of 3 windows breached); the second is `drift`."""
    log_week(monitored, week(1, seed=11, shifts=SEASON_SHIFT))
    log_week(monitored, week(2, seed=12, shifts=SEASON_SHIFT))
    first, second = run(1, actions=False), run(2, actions=False)
    assert first["verdict"] == "warn"
    assert any("1 of the last 3" in reason for reason in first["reasons"])
    assert second["verdict"] == "drift"
    drifted = {c["column"] for c in second["drifted_columns"]}
    assert {"temp", "wind_speed", "distance"} <= drifted


def test_an_empty_window_is_insufficient_data(monitored: ModelConfig) -> None:
    """A window without rows ends as insufficient_data, is recorded, and measures no drift."""
    summary = run(3)
    assert summary["verdict"] == "insufficient_data"
    assert summary["row_count"] == 0
    assert "0 rows" in summary["reasons"][0]
    assert count_window_rows(get_engine(store_url()), "flights-delay", window_end(3))["column_drift"] == 0


def test_a_missing_column_makes_the_data_invalid(monitored: ModelConfig) -> None:
    """A warehouse table without a configured column ends as data_invalid, naming the column."""
    write_predictions(week(1, seed=1).drop(columns=["temp"]), replace=True)
    summary = run(1)
    assert summary["verdict"] == "data_invalid"
    assert any("temp" in reason for reason in summary["reasons"])


def test_an_all_null_prediction_column_makes_the_data_invalid(monitored: ModelConfig) -> None:
    """A week whose predictions are all missing is data_invalid and never drift."""
    frame = week(1, seed=1)
    log_week(monitored, frame)
    write_predictions(frame.assign(delay_proba=None), replace=True)
    summary = run(1)
    assert summary["verdict"] == "data_invalid"
    assert any("delay_proba" in reason for reason in summary["reasons"])


def test_unseen_categories_beyond_tolerance_make_the_data_invalid(monitored: ModelConfig) -> None:
    """5% of flights from an unknown carrier fail the allowed-categories expectation."""
    frame = week(1, seed=1)
    frame.loc[frame.index[::20], "carrier"] = "ZZ"
    log_week(monitored, frame)
    summary = run(1)
    assert summary["verdict"] == "data_invalid"
    assert any("carrier" in reason for reason in summary["reasons"])


def test_a_constant_column_is_measured_and_warned_about(monitored: ModelConfig) -> None:
    """A stuck visibility sensor (constant 10) is valid data but earns a warning naming the column."""
    log_week(monitored, week(1, seed=1).assign(visib=10.0))
    summary = run(1)
    assert summary["verdict"] in ("warn", "drift")
    assert any("visib" in reason for reason in summary["reasons"])


def test_a_broken_configuration_fails_the_run_with_its_file_and_field(
        monitored: ModelConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An invalid YAML file fails the run with a message naming the file and the field."""
    models = tmp_path / "project" / "deployments" / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / "broken.yaml").write_text("name: broken\ntask: clustering\n")
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(tmp_path / "project"))
    state = monitor(model="broken", window_end=window_end(1), return_state=True)
    assert state.is_failed()
    assert "broken.yaml" in (state.message or "")
    assert "task" in (state.message or "")


def test_a_fixed_window_reference_is_snapshotted_once_and_used(monitored: ModelConfig, project: Any) -> None:
    """With `reference: {from: fixed_window}` the window's logged rows become the reference, named by it."""
    project(reference={"from": "fixed_window", "start": "2013-01-07T06:00", "end": "2013-01-21T06:00"})
    log_week(monitored, week(1, seed=1))
    first, second = run(1), run(1)
    assert first["reference_version"] == second["reference_version"] == "fixed-20130107T0600-20130121T0600"
    assert first["performance"]["reference"] is not None


def test_a_rolling_reference_moves_with_the_window(monitored: ModelConfig, project: Any) -> None:
    """`reference: {from: rolling, length: 14d}`: each week is measured against the two logged weeks before it
    (for the first, the reference period's last week), so a shift that persists stops drifting once the
    reference holds it."""
    project(reference={"from": "rolling", "length": "14d"})
    for n in range(1, 5):
        log_week(monitored, week(n, seed=n, shifts=SEASON_SHIFT if n >= 2 else None))
    summaries = [run(n, actions=False) for n in range(1, 5)]
    assert [s["reference_version"] for s in summaries] == [
        f"rolling-{window_end(n - 3):%Y%m%dT%H%M}" for n in range(1, 5)]
    assert "temp" in {c["column"] for c in summaries[1]["drifted_columns"]}  # shifted vs unshifted weeks
    assert "temp" not in {c["column"] for c in summaries[3]["drifted_columns"]}  # shifted vs shifted weeks


def test_with_the_defaults_input_drift_warns_and_lost_skill_is_drift(
        project: Callable[..., ModelConfig], driftflow_home: Path) -> None:
    """The shipped defaults: a season's shift of the inputs is named but only warns (the model still ranks
    flights well); a week whose delays follow another relationship loses the model's skill far beyond the
    reference weeks' spread, which is `drift` at once (severe), led by the concept-drift reason."""
    config = seed_monitored(project(drift__severity={"features": "warn"}))
    log_week(config, week(1, seed=11, shifts=SEASON_SHIFT))
    log_week(config, week(2, seed=12, concept_shift=True))
    shifted, harmed = run(1, actions=False), run(2, actions=False)
    assert shifted["verdict"] == "warn", shifted["reasons"]
    assert {"temp", "wind_speed", "distance"} <= {c["column"] for c in shifted["drifted_columns"]}
    assert all("reference chunks" in c["threshold_source"] for c in shifted["drifted_columns"])
    assert harmed["verdict"] == "drift" and harmed["severe"], harmed["reasons"]
    assert harmed["reasons"][0].startswith("severe concept drift: roc_auc"), harmed["reasons"]
    assert harmed["performance"]["allowance"] == 0.05, harmed["performance"]  # the demo model's fixed allowance


def test_status_json_carries_the_fields_of_run_json(monitored: ModelConfig) -> None:
    """What `status --json` reads back from the store has the shape `run --json` printed, with the same values."""
    from tasks.monitor.status import recorded_summaries

    log_week(monitored, week(1, seed=1))
    summary = run(1, actions=False)
    recorded = recorded_summaries(get_engine(store_url()), monitored, limit=1)[0]
    assert recorded.keys() == summary.keys()
    same = ("verdict", "severe", "reasons", "drifted_columns", "false_alarm_control", "row_count",
            "quarantined_rows", "reference_version", "retrain")
    assert {k: recorded[k] for k in same} == {k: summary[k] for k in same}
