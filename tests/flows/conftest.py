"""Flow tests run against the session's real Prefect test server (`prefect_server` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tasks.config import ModelConfig
from tests.support import (  # re-exported: flow tests import these helpers from here
    FEATURES_BREACH,
    FIRST_WINDOW_END,
    REFERENCE_START,
    copy_project,
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
