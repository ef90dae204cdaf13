"""Flow tests run against the session's real Prefect test server (`prefect_server` in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import ModelConfig, load_model_config
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
