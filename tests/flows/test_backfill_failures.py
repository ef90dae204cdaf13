"""A backfill goes on past a window that cannot be measured, and says at the end which and why; one that
would fail every window (here: an unreachable warehouse) stops at once with one line."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.config import ModelConfig
from tasks.db import get_engine
from tasks.settings import store_url
from tasks.store.windows import window_runs
from tests.flows.conftest import log_week, week, window_end

MODEL = "flights-delay"


def backfill(first: int, last: int) -> Any:
    return CliRunner().invoke(app, ["backfill", "-m", MODEL, "--start", window_end(first).isoformat(),
                                    "--end", window_end(last).isoformat()])


def test_a_window_that_cannot_be_read_is_listed_and_the_others_are_recorded(
        monitored: ModelConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read of week 2 fails (a fault injected into the source task); weeks 1 and 3 are recorded, week 2 is
    named with its error, nothing is recorded for it, and the command ends with exit code 1."""
    import flows.monitor
    from tasks.errors import SourceError

    for n in (1, 2, 3):
        log_week(monitored, week(n, seed=n))
    read = flows.monitor.extract_window

    def failing(config: ModelConfig, window: Any, **options: Any) -> Any:
        if window.end == window_end(2):
            raise SourceError("flight_predictions: the read was cut off by the server (test fault)")
        return read(config, window, **options)

    monkeypatch.setattr(flows.monitor, "extract_window", failing)
    result = backfill(1, 3)
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert f"not measured: {window_end(2).isoformat()[:16]}: SourceError: flight_predictions: the read was cut " \
           "off by the server (test fault)" in said
    assert "1 of 3 windows of flights-delay could not be measured" in said and "Traceback" not in said
    recorded = sorted(r["window_end"] for r in window_runs(get_engine(store_url()), MODEL))
    assert recorded == [window_end(1), window_end(3)]


def test_an_unreachable_warehouse_ends_the_backfill_at_once(monitored: ModelConfig,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", "postgresql+psycopg://driftflow@127.0.0.1:1/nowhere")
    result = backfill(1, 3)
    assert result.exit_code == 1 and "not measured" not in result.output  # stopped at the first window
    assert "DRIFTFLOW_WAREHOUSE_URL" in " ".join(result.output.split())
    assert window_runs(get_engine(store_url()), MODEL) == []
