"""`driftflow init`: roles proposed from a real SQLite source, a YAML the loader accepts, a suite profiled from
the reference window the user names."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from tasks.config import load_model_config
from tasks.errors import ConfigError, SourceError
from tasks.monitor.suites import check_suite
from tasks.onboarding.check import check_project
from tasks.onboarding.init import init_model
from tasks.onboarding.introspect import introspect_source
from tasks.onboarding.roles import Overrides, propose_roles

START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC)


def hourly_log(days: int = 28, seed: int = 0) -> pd.DataFrame:
    """An hourly log of a load forecaster."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-01-01", periods=24 * days, freq="h")
    temp = rng.normal(10, 3, len(times)).round(1)
    load = 50 + 2 * temp + rng.normal(0, 1, len(times))
    return pd.DataFrame({
        "reading_id": np.arange(1, len(times) + 1),
        "read_at": times,
        "temp": temp,
        "hour": times.hour,
        "city": rng.choice(["north", "south", "east"], len(times)),
        "note": [f"free text {i}" for i in range(len(times))],
        "pred_load": load + rng.normal(0, 0.5, len(times)),
        "load": load,
    })


@pytest.fixture()
def project(driftflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder and a warehouse holding `readings`, an hourly log, and `text_readings`, the same
    log with its times stored as TEXT (as SQLite users often do)."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(folder))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    driftflow_home.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{driftflow_home / 'warehouse.db'}")
    hourly_log().to_sql("readings", engine, index=False)
    text = hourly_log(days=2)
    text["read_at"] = text["read_at"].dt.strftime("%Y-%m-%dT%H:%M")
    text.to_sql("text_readings", engine, index=False)
    return folder


def test_roles_are_guessed_from_kinds_and_names(project: Path, driftflow_home: Path) -> None:
    """Times (declared, or ISO text) are the timestamp, the unique integer named like an id is the id,
    `pred_load` the prediction and `load` (the column it is named after) the target;
    `hour` is context; free text gets no role."""
    source = introspect_source(f"sqlite:///{driftflow_home / 'warehouse.db'}", "readings")
    roles = propose_roles(source)
    assert (roles.timestamp, roles.id, roles.prediction, roles.target) == ("read_at", "reading_id", "pred_load", "load")
    assert roles.task == "regression"
    assert roles.numeric == ["temp", "hour"] and roles.categorical == ["city"]
    assert roles.context == ["hour"]
    assert roles.skipped == ["note"]
    text = propose_roles(introspect_source(f"sqlite:///{driftflow_home / 'warehouse.db'}", "text_readings"))
    assert text.timestamp == "read_at"


def test_flags_override_every_guess(project: Path, driftflow_home: Path) -> None:
    """What the user names wins; a name that is not a column is refused, naming the flag."""
    source = introspect_source(f"sqlite:///{driftflow_home / 'warehouse.db'}", "readings")
    roles = propose_roles(source, Overrides(prediction="temp", target="pred_load", numeric=["load", "hour"],
                                            categorical=[], context=[], task="regression"))
    assert (roles.prediction, roles.target, roles.numeric, roles.context) == ("temp", "pred_load", ["load", "hour"],
                                                                               [])
    only = propose_roles(source, Overrides(numeric=["temp"]))  # one list given: the other keeps its guess
    assert (only.numeric, only.categorical, only.skipped) == (["temp"], ["city"], ["hour", "note"])
    with pytest.raises(ConfigError, match="--target 'lod': no such column in table readings"):
        propose_roles(source, Overrides(target="lod"))


def test_a_select_is_introspected_like_a_table(project: Path, driftflow_home: Path) -> None:
    source = introspect_source(f"sqlite:///{driftflow_home / 'warehouse.db'}", sql="SELECT reading_id, read_at, "
                               "temp, pred_load, load FROM readings WHERE city = 'north'")
    assert source.where == "the configured SQL"
    assert {c.name: c.kind for c in source.columns}["read_at"] == "time"


def test_init_writes_a_yaml_and_a_suite_that_check_accepts(project: Path) -> None:
    """From a table and a named reference window: a commented YAML and a suite; `check` (connected) passes."""
    result = init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END,
                        window="1d")
    text = result.config_path.read_text()
    assert result.config_path == project / "deployments" / "models" / "load-forecast.yaml"
    assert "# no `threshold`: each column's threshold is calibrated" in text and "max_drop: 2sd" in text
    config = load_model_config("load-forecast")
    assert config.columns.context == ["hour"] and config.schedule.cron == "0 0 * * *"
    assert result.window_counts == [24] * 14  # the whole daily windows in [Jan 1, Jan 15): ends Jan 2 … Jan 15
    assert config.policy.min_rows == 12
    assert check_suite("load-forecast") == []
    problems, checked = check_project(offline=False)
    assert (problems, checked) == ([], 1)


def test_init_fits_the_gate_s_minimum_holdout_to_the_holdout_s_rows(project: Path) -> None:
    """A 7-day holdout of an hourly log holds 168 rows: the gate needs half of them, not the default 200 that
    no holdout of this model could reach (every challenger would be refused for too few rows)."""
    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END, window="1d")
    config = load_model_config("load-forecast")
    assert config.retraining is not None and config.retraining.holdout.days == 7
    assert config.retraining.promote_if.min_holdout_rows == 84
    assert "min_holdout_rows: 84}" in (project / "deployments" / "models" / "load-forecast.yaml").read_text()


def test_the_suite_holds_the_reference_s_own_bounds(project: Path) -> None:
    """Row counts from the reference's windows, id unique and non-null, ranges with a margin, category sets."""
    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END, window="1d")
    suite = json.loads((project / "expectations" / "load-forecast.json").read_text())
    by = {(e["type"], e["kwargs"].get("column")): e for e in suite["expectations"]}
    counts = [e for e in suite["expectations"] if e["type"] == "expect_table_row_count_to_be_between"]
    assert [c["kwargs"] for c in counts] == [{"min_value": 1}, {"min_value": 12, "max_value": 36}]
    assert ("expect_column_values_to_be_unique", "reading_id") in by
    assert ("expect_column_values_to_not_be_null", "reading_id") in by
    reference = hourly_log().iloc[: 24 * 14]
    temp = by[("expect_column_values_to_be_between", "temp")]["kwargs"]
    span = reference["temp"].max() - reference["temp"].min()
    assert temp["min_value"] == pytest.approx(reference["temp"].min() - span / 10, abs=1e-3)
    assert temp["max_value"] == pytest.approx(reference["temp"].max() + span / 10, abs=1e-3)
    assert by[("expect_column_values_to_be_in_set", "city")]["kwargs"]["value_set"] == ["east", "north", "south"]
    assert by[("expect_column_max_to_be_between", "read_at")]["kwargs"]["max_value"] == {"$PARAMETER": "window_end"}
    assert suite["meta"]["driftflow"]["freshness_lag"] == "2h"  # twice the hourly gap


def test_the_profiled_suite_passes_a_reference_window_and_blocks_a_broken_one(project: Path) -> None:
    """Run through the monitor's own validation (real GX): the reference's windows pass; a few repeated ids are
    quarantined (the first copy measured); a window of one id repeated throughout blocks."""
    from tasks.monitor.validate import validate_window
    from tasks.source.query import read_range

    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END, window="1d")
    config = load_model_config("load-forecast")
    end = datetime(2024, 1, 20, tzinfo=UTC)
    window = read_range(config, config.monitored_columns, datetime(2024, 1, 19, tzinfo=UTC), end)
    assert len(window) == 24
    passed = validate_window.fn(config, window, end).summary
    assert passed.error is None and passed.blocking_failures == [] and passed.warnings == []
    broken = window.assign(reading_id=1)
    failed = validate_window.fn(config, broken, end).summary
    [unique] = [o for o in failed.blocking_failures if o.expectation == "expect_column_values_to_be_unique"]
    assert "too many rows to quarantine" in (unique.observed or "")
    replayed = pd.concat([window, window.iloc[:3]], ignore_index=True)  # three rows logged twice
    kept = validate_window.fn(config, replayed, end)
    assert kept.summary.blocking_failures == [] and kept.summary.quarantined_rows == 3
    assert [o.expectation for o in kept.summary.quarantines] == ["expect_column_values_to_be_unique"]
    assert len(kept.kept) == 24 and kept.kept["reading_id"].is_unique


def test_init_refuses_to_overwrite_without_force(project: Path) -> None:
    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END)
    path = project / "deployments" / "models" / "load-forecast.yaml"
    path.write_text(path.read_text() + "# my edit\n")
    with pytest.raises(ConfigError, match=r"already exist.*--force"):
        init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END)
    assert path.read_text().endswith("# my edit\n")
    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END, force=True)
    assert "# my edit" not in path.read_text()


def test_init_names_a_missing_table_and_an_empty_reference(project: Path) -> None:
    with pytest.raises(SourceError, match=r"table 'reading' does not exist.*tables: readings, text_readings"):
        init_model("x", table="reading", sql=None, reference_start=START, reference_end=END)
    with pytest.raises(SourceError, match="no rows with read_at in the reference window"):
        init_model("x", table="readings", sql=None, reference_start=datetime(2030, 1, 1, tzinfo=UTC),
                   reference_end=datetime(2030, 2, 1, tzinfo=UTC))
    assert not (project / "deployments" / "models" / "x.yaml").exists()


def test_monitor_only_and_monthly_windows(project: Path) -> None:
    """--monitor-only writes no retraining section; a 'tick' window gets a monthly cron."""
    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END,
               window="tick", monitor_only=True)
    config = load_model_config("load-forecast")
    assert config.monitor_only and config.schedule.by_tick and config.schedule.cron == "0 0 1 * *"


def test_the_command_prints_the_next_steps(project: Path) -> None:
    from flows.cli import app

    result = CliRunner().invoke(app, ["init", "load-forecast", "--table", "readings", "--reference-start",
                                      "2024-01-01", "--reference-end", "2024-01-15", "--context", ""])
    assert result.exit_code == 0, result.output
    assert "driftflow register load-forecast" in result.output and "driftflow check" in result.output
    assert load_model_config("load-forecast").columns.context == []
    again = CliRunner().invoke(app, ["init", "load-forecast", "--table", "readings", "--reference-start",
                                     "2024-01-01", "--reference-end", "2024-01-15"])
    assert again.exit_code == 1 and "--force" in again.output and "Traceback" not in again.output


def test_the_written_yaml_is_commented_yaml(project: Path) -> None:
    """Every section is present and the comments do not change what YAML reads."""
    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END)
    raw = yaml.safe_load((project / "deployments" / "models" / "load-forecast.yaml").read_text())
    assert set(raw) == {"name", "task", "source", "columns", "schedule", "reference", "validation", "drift",
                        "performance", "policy", "retraining"}
    assert raw["retraining"]["trainer"] == "tasks.retrain.trainers:gradient_boosting"


def test_a_range_widened_below_zero_stops_at_zero_for_a_never_negative_column() -> None:
    """Precipitation of 0 … 5 mm is widened to 0 … 5.5, not -0.5; a column that went negative keeps its margin."""
    from tasks.onboarding.suite_profile import _range

    [rain, _] = _range("precip", pd.Series([0.0, 0.2, 5.0]))
    assert (rain["kwargs"]["min_value"], rain["kwargs"]["max_value"]) == (0.0, 5.5)
    assert "not below 0" in rain["meta"]["notes"]
    [temp, _] = _range("temp", pd.Series([-3.0, 10.0]))
    assert temp["kwargs"]["min_value"] == pytest.approx(-4.3)
