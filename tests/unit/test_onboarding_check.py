"""`driftflow check` connected: each problem a user meets is one line naming the file and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from tasks.onboarding.check import check_project
from tasks.onboarding.init import init_model
from tasks.onboarding.roles import Overrides
from tests.unit.test_onboarding import END, START, project

__all__ = ["project"]


@pytest.fixture()
def model(project: Path) -> Path:
    """`load-forecast` as init writes it from `readings`; `check` passes on it as written."""
    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END)
    return project / "deployments" / "models" / "load-forecast.yaml"


def edit(path: Path, **changes: Any) -> None:
    """Set dotted fields (`columns__numeric`) of the YAML at `path`."""
    raw = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = raw
        for part in parents:
            node = node[part]
        node[leaf] = value
    path.write_text(yaml.safe_dump(raw))


def problems() -> list[str]:
    found, _ = check_project(offline=False)
    return found


def test_the_model_init_wrote_passes(model: Path) -> None:
    assert problems() == []


def test_a_missing_table_is_named_with_its_field(model: Path) -> None:
    """A missing table passes the offline (syntax) check and fails the connected one, naming file and field."""
    edit(model, source__table="reading")
    assert check_project(offline=True)[0] == []
    [problem] = problems()
    assert problem.startswith(f"{model}: source.table: table 'reading' does not exist in the warehouse")


def test_a_missing_column_is_named_with_its_position(model: Path) -> None:
    edit(model, columns__numeric=["temp", "tmp", "hour"])
    assert problems() == [f"{model}: columns.numeric[1] 'tmp': no such column in table readings"]


def test_a_text_column_listed_as_numeric_is_refused(model: Path) -> None:
    edit(model, columns__numeric=["temp", "hour", "city"], columns__categorical=[])
    [problem] = problems()
    assert problem.startswith(f"{model}: columns.numeric[2] 'city': not numeric in table readings")
    assert "list it under columns.categorical" in problem


def test_a_timestamp_that_does_not_parse_is_refused(model: Path) -> None:
    edit(model, source__table=None,
         source__sql="SELECT reading_id, note AS read_at, temp, hour, city, pred_load, load FROM readings")
    [problem] = problems()
    assert problem.startswith(f"{model}: source.timestamp 'read_at': does not parse as a date or date-time")


def test_sql_that_fails_is_named(model: Path) -> None:
    edit(model, source__table=None, source__sql="SELECT * FROM nowhere")
    [problem] = problems()
    assert problem.startswith(f"{model}: source.sql: the configured SQL cannot be read: no such table: nowhere")


def test_a_missing_trainer_is_named(model: Path) -> None:
    edit(model, retraining__trainer="trainers.load:train")
    [problem] = problems()
    assert problem.startswith(f"{model}: retraining.trainer 'trainers.load:train' cannot be loaded")


def test_a_user_trainer_is_imported_from_the_project_folder_and_its_signature_checked(
        model: Path, project: Path) -> None:
    """A trainer module outside the package, in <project>/trainers/, is found; a wrong signature is refused."""
    (project / "trainers").mkdir()
    (project / "trainers" / "__init__.py").write_text("")
    (project / "trainers" / "load_good.py").write_text("def train(features, target, config):\n    return None\n")
    (project / "trainers" / "load_bad.py").write_text("def train(features):\n    return None\n")
    edit(model, retraining__trainer="trainers.load_good:train")
    assert problems() == []
    edit(model, retraining__trainer="trainers.load_bad:train")
    assert problems() == [f"{model}: retraining.trainer 'trainers.load_bad:train' must take (features, target, "
                          "config)"]


def test_a_training_deployment_is_not_passed_silently_without_a_prefect_api(
        model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    raw = yaml.safe_load(model.read_text())
    raw["retraining"] = {"deployment": "train/load-forecast", "train_window": "28d"}
    model.write_text(yaml.safe_dump(raw))
    notes: list[str] = []
    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # a test server of the session may have set one
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert check_project(offline=False, notes=notes)[0] == []
    assert notes == [f"{model}: retraining.deployment 'train/load-forecast' not checked: no Prefect API configured "
                     "(PREFECT_API_URL)"]


def test_every_suite_column_exists(model: Path, project: Path) -> None:
    path = project / "expectations" / "load-forecast.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "ghost"},
                                  "meta": {}, "severity": "warning"})
    path.write_text(json.dumps(suite))
    position = len(suite["expectations"]) - 1
    assert problems() == [f"{path}: expectations[{position}] (expect_column_values_to_not_be_null): column 'ghost': "
                          "no such column in table readings"]


def labelled(project: Path, driftflow_home: Path, task: str, prediction: str) -> Path:
    """A three-class log (`weather` is the target) with a label prediction and a probability column."""
    rng = np.random.default_rng(1)
    n = 300
    labels = rng.choice(["sun", "rain", "snow"], n)
    pd.DataFrame({"event_id": range(n), "seen_at": pd.date_range("2024-01-01", periods=n, freq="h"),
                  "pressure": rng.normal(1000, 10, n), "predicted_weather": labels, "weather_proba": rng.random(n),
                  "weather": labels}).to_sql("events", sa.create_engine(f"sqlite:///{driftflow_home}/warehouse.db"),
                                             index=False)
    init_model("weather", table="events", sql=None, reference_start=START, reference_end=END, window="1d",
               overrides=Overrides(prediction=prediction, target="weather", task=task, numeric=["pressure"],
                                   categorical=[]),
               monitor_only=True)
    return project / "deployments" / "models" / "weather.yaml"


def test_multiclass_targets_under_a_binary_task_are_refused(project: Path, driftflow_home: Path) -> None:
    path = labelled(project, driftflow_home, "classification", "weather_proba")
    [problem] = [p for p in problems() if str(path) in p]
    assert problem.startswith(f"{path}: columns.target.column 'weather': 3 classes in the sample, but task is "
                              "classification (binary)")


def test_multiclass_needs_probabilities_or_a_label_prediction(project: Path, driftflow_home: Path) -> None:
    path = labelled(project, driftflow_home, "multiclass", "weather_proba")
    [problem] = [p for p in problems() if str(path) in p]
    assert problem.startswith(f"{path}: columns.prediction 'weather_proba': a multiclass model needs "
                              "columns.probabilities")
    edit(path, columns__prediction="predicted_weather", columns__numeric=["pressure"])
    assert [p for p in problems() if str(path) in p] == []


def test_the_command_fails_with_one_line_per_problem(model: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's Prefect set-up is kept to this test: no API to ask (a trainer needs none), its own home."""
    from flows.cli import app

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    edit(model, columns__numeric=["temp", "tmp", "hour"])
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    assert "columns.numeric[1] 'tmp': no such column in table readings" in result.output
    assert "Traceback" not in result.output
    offline = CliRunner().invoke(app, ["check", "--offline"])
    assert offline.exit_code == 0 and "are valid" in offline.output


def test_a_regression_target_must_be_numeric(model: Path) -> None:
    edit(model, columns__target={"column": "city", "label_delay": "0d"}, columns__categorical=[])
    [problem] = problems()
    assert problem.startswith(f"{model}: columns.target.column 'city': not numeric in table readings")
    assert "categorical" not in problem
