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


@pytest.fixture()
def config() -> ModelConfig:
    return load_model_config("flights-delay")


@pytest.fixture()
def monitored(driftflow_home: Path, config: ModelConfig) -> ModelConfig:
    """A warehouse with a 4-week reference period scored by a registered champion (v1)."""
    return seed_monitored(config)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ModelConfig]:
    """Run against a copy of the project's configuration, with `changes` applied to flights-delay.yaml."""

    def configure(**changes: Any) -> ModelConfig:
        raw = yaml.safe_load((PROJECT_DIR / "deployments/models/flights-delay.yaml").read_text())
        for dotted, value in changes.items():
            *path, leaf = dotted.split("__")
            node = raw
            for part in path:
                node = node[part]
            node[leaf] = value
        models = tmp_path / "project" / "deployments" / "models"
        models.mkdir(parents=True, exist_ok=True)
        (models / "flights-delay.yaml").write_text(yaml.safe_dump(raw))
        (tmp_path / "project" / "expectations").mkdir(exist_ok=True)
        suite = PROJECT_DIR / "expectations" / "flights-delay.json"
        (tmp_path / "project" / "expectations" / suite.name).write_text(suite.read_text())
        monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(tmp_path / "project"))
        config = load_model_config("flights-delay")
        from flows.deployments import model_deployments, register

        register(model_deployments(config))
        return config

    return configure
