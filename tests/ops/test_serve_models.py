"""`driftflow serve -m MODEL`: one model of the folder served from this process, without touching the
automations of the models served elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.support import copy_project


@pytest.fixture()
def two_models(prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder with flights-delay and a copy of it named second-model; no operations file."""
    from tasks.ops.automations import apply_automations

    copy_project(tmp_path, monkeypatch)
    apply_automations([])  # other tests of the session (a served model) may have left theirs on the server
    project = tmp_path / "project"
    raw = yaml.safe_load((project / "deployments/models/flights-delay.yaml").read_text())
    raw["name"] = "second-model"
    (project / "deployments/models/second-model.yaml").write_text(yaml.safe_dump(raw))
    (project / "expectations/second-model.json").write_text((project / "expectations/flights-delay.json").read_text())
    yield project
    apply_automations([])  # the session's server keeps no automation of this test


def test_serving_one_model_registers_its_deployments_and_keeps_the_others_automations(two_models: Path) -> None:
    from flows.deployments import all_deployments, prepare_serving

    chosen = all_deployments(["second-model"])
    assert sorted(f"{d.flow_name}/{d.name}" for d in chosen) == [
        "health/driftflow", "monitor/second-model", "prune/driftflow", "retrain/second-model"]
    project_wide = "driftflow: unresponsive runs"
    first = prepare_serving(all_deployments(["flights-delay"]))
    assert project_wide in first["created"]
    assert all("flights-delay" in name for name in first["created"] if name != project_wide)
    second = prepare_serving(chosen)
    assert second["deleted"] == []  # flights-delay, served by the first process, keeps its automations
    assert sorted(second["unchanged"]) == sorted(first["created"])
    assert second["created"] and all("second-model" in name for name in second["created"])


def test_an_unknown_model_is_refused_before_anything_is_served(two_models: Path) -> None:
    from flows.cli import app

    result = CliRunner().invoke(app, ["serve", "-m", "no-such-model"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # the console wraps long lines at its width
    assert "no-such-model.yaml: no such model configuration (known models: flights-delay, second-model)" in said
    assert "Traceback" not in result.output
