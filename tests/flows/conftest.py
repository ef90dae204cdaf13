"""Flow tests run against the session's real Prefect test server (`prefect_server` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import ModelConfig, load_model_config
from tasks.settings import PROJECT_DIR
from tests.support import (  # re-exported: flow tests import these helpers from here
    FIRST_WINDOW_END,
    REFERENCE_START,
    log_week,
    seed_monitored,
    table_rows,
    week,
    window_end,
    write_predictions,
)

__all__ = ["FIRST_WINDOW_END", "REFERENCE_START", "log_week", "table_rows", "week", "window_end",
           "write_predictions"]


@pytest.fixture(scope="session", autouse=True)
def _flows_use_prefect_server(prefect_server: None) -> None:
    """Every flow test reports to the one session-wide Prefect test server."""


# The loop's mechanics (persistence, retraining, promotion) are tested on input shifts that breach at once:
# these tests opt the features into breaches. The defaults (input drift warns) have tests of their own.
FEATURES_BREACH = {"drift__severity": {"features": "breach"}}


def copy_project(root: Path, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> ModelConfig:
    """A copy of the project's configuration under `root`, with `changes` applied to flights-delay.yaml."""
    raw = yaml.safe_load((PROJECT_DIR / "deployments/models/flights-delay.yaml").read_text())
    for dotted, value in changes.items():
        *path, leaf = dotted.split("__")
        node = raw
        for part in path:
            node = node[part]
        node[leaf] = value
    models = root / "project" / "deployments" / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / "flights-delay.yaml").write_text(yaml.safe_dump(raw))
    (root / "project" / "expectations").mkdir(exist_ok=True)
    suite = PROJECT_DIR / "expectations" / "flights-delay.json"
    (root / "project" / "expectations" / suite.name).write_text(suite.read_text())
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(root / "project"))
    return load_model_config("flights-delay")


@pytest.fixture()
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelConfig:
    return copy_project(tmp_path, monkeypatch, **FEATURES_BREACH)


@pytest.fixture()
def monitored(driftflow_home: Path, config: ModelConfig) -> ModelConfig:
    """A warehouse with a 4-week reference period scored by a registered champion (v1)."""
    return seed_monitored(config)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ModelConfig]:
    """Run against a copy of the project's configuration, with `changes` applied to flights-delay.yaml (the
    features opted into breaches unless `changes` say otherwise), its deployments registered."""

    def configure(**changes: Any) -> ModelConfig:
        config = copy_project(tmp_path, monkeypatch, **{**FEATURES_BREACH, **changes})
        from flows.deployments import model_deployments, register

        register(model_deployments(config))
        return config

    return configure
