"""Model configurations: a valid file loads typed; a broken one names its file and the failing field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from tasks.config import ConfigError, load_model_config, parse_model_config
from tasks.onboarding.check import check_project
from tasks.settings import PROJECT_DIR

SHIPPED = PROJECT_DIR / "deployments" / "models" / "flights-delay.yaml"


def variant(**changes: object) -> str:
    """The shipped configuration with top-level sections replaced."""
    raw = yaml.safe_load(SHIPPED.read_text())
    raw.update(changes)
    return yaml.safe_dump(raw)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_model_config(text, "models/x.yaml")
    return str(caught.value)


def test_the_shipped_model_loads_typed() -> None:
    """Durations become timedeltas and per-column overrides resolve to methods and thresholds."""
    config = load_model_config("flights-delay")
    assert config.schedule.window.delta == timedelta(days=7) and not config.schedule.window.calendar
    assert config.columns.target.label_delay == timedelta(days=2)
    assert config.drift.method_for("temp", "numeric") == "wasserstein"
    assert config.drift.fixed_threshold_for("temp") is None  # learned from the reference
    assert config.drift.threshold_for("distance") == config.drift.fallback_threshold == 0.1
    assert config.performance.max_drop.resolve(0.6, None) == 0.05
    assert config.monitored_columns[:2] == ["flight_id", "scheduled_at"]


def test_invalid_yaml_names_the_file() -> None:
    assert error_of("name: [unclosed").startswith("models/x.yaml: not valid YAML")


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"task": "clustering"}, "task", "'classification', 'regression' or 'multiclass'"),
    ({"schedule": {"cron": "every monday", "window": "7d"}}, "schedule.cron", "not a valid cron"),
    ({"schedule": {"cron": "0 6 * * 1", "window": "a week"}}, "schedule.window", "not a window like '7d'"),
    ({"source": {"table": "t; drop table x", "timestamp": "ts", "id": "id"}}, "source.table", "plain SQL identifier"),
    ({"source": {"timestamp": "ts", "id": "id"}}, "source", "exactly one of 'table' or 'sql'"),
    ({"drift": {"numeric_method": "magic"}}, "drift.numeric_method", "unknown numeric drift method"),
    ({"drift": {"per_column": {"nonexistent": {"threshold": 0.2}}}}, "(top level)", "not drift-scored: nonexistent"),
    ({"performance": {"metric": "rmse"}}, "(top level)", "does not fit a classification model"),
    ({"policy": {"persistence": {"breaches": 4, "of_last": 3}}}, "policy.persistence", "cannot exceed"),
    ({"retraining": {"trainer": "not an entry point", "train_window": "28d"}}, "retraining.trainer", "entry point"),
    ({"surprise": 1}, "surprise", "Extra inputs are not permitted"),
])
def test_each_problem_names_its_field(changes: dict[str, object], field: str, words: str) -> None:
    """The message names the file, the field path and what is wrong with it."""
    message = error_of(variant(**changes))
    assert message.startswith("models/x.yaml: invalid configuration")
    assert f": {field}: " in message or f"; {field}: " in message
    assert "\n" not in message
    assert words in message


def test_check_reports_every_broken_file_and_passes_the_good_ones(tmp_path: Path) -> None:
    """`driftflow check` reads every YAML file and reports one line per problem, naming the file."""
    (tmp_path / "flights-delay.yaml").write_text(SHIPPED.read_text())
    (tmp_path / "broken.yaml").write_text("name: broken\ntask: classification\n")
    problems, checked = check_project(tmp_path)
    assert checked == 2
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / 'broken.yaml'}: invalid configuration")
    assert "source: Field required" in problems[0]


def test_a_file_whose_name_differs_from_its_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(SHIPPED.read_text())
    with pytest.raises(ConfigError, match="does not match the file name 'other'"):
        load_model_config("other", tmp_path)
