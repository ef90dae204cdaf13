"""The Prefect server dies in the middle of a backfill (SIGKILL while week 2 is read).

The backfill ends with one line naming the Prefect API and its setting instead of hanging, measuring on, or
showing a traceback; no window has more than one record; and once a server is back, the same backfill records
every window exactly once.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.config import ModelConfig
from tasks.db import get_engine
from tasks.settings import store_url
from tasks.store.windows import window_runs
from tests.flows.conftest import log_week, week, window_end
from tests.prefect_server import kill_server, prefect_server
from tests.support import flush_prefect_workers

MODEL = "flights-delay"


def backfill() -> Any:
    return CliRunner().invoke(app, ["backfill", "-m", MODEL, "--start", window_end(1).isoformat(),
                                    "--end", window_end(4).isoformat()])


def records() -> Counter[Any]:
    return Counter(r["window_end"] for r in window_runs(get_engine(store_url()), MODEL))


def test_a_prefect_server_killed_mid_backfill_ends_it_with_one_line(
        monitored: ModelConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    import flows.monitor
    from flows.prefect_env import CLIENT_RETRIES

    for n in (1, 2, 3, 4):
        log_week(monitored, week(n, seed=n))
    read = flows.monitor.extract_window
    home = tmp_path / "prefect"
    home.mkdir()
    with prefect_server(home, PREFECT_SERVER_UI_ENABLED="false") as base_url:
        def server_dies_during_week_2(config: ModelConfig, window: Any, **options: Any) -> Any:
            if window.end == window_end(2):
                kill_server(base_url)
            return read(config, window, **options)

        monkeypatch.setattr(flows.monitor, "extract_window", server_dies_during_week_2)
        monkeypatch.setenv("PREFECT_API_URL", f"{base_url}/api")
        flush_prefect_workers()
        started = time.monotonic()
        # the API client as driftflow's commands configure it (the settings of this process are already built)
        with temporary_settings({PREFECT_API_URL: f"{base_url}/api", PREFECT_CLIENT_MAX_RETRIES: CLIENT_RETRIES}):
            result = backfill()
        elapsed = time.monotonic() - started
    flush_prefect_workers()
    said = " ".join(result.output.split())
    assert result.exit_code == 1, said
    assert "Prefect API" in said and "PREFECT_API_URL" in said and "Traceback" not in said
    assert elapsed < 90, f"the backfill took {elapsed:.0f} s to give up"
    assert set(records()) <= {window_end(1), window_end(2)} and max(records().values()) == 1

    monkeypatch.setattr(flows.monitor, "extract_window", read)
    with prefect_server(home, PREFECT_SERVER_UI_ENABLED="false") as base_url:
        monkeypatch.setenv("PREFECT_API_URL", f"{base_url}/api")
        with temporary_settings({PREFECT_API_URL: f"{base_url}/api"}):
            again = backfill()
    flush_prefect_workers()
    assert again.exit_code == 0, again.output
    assert records() == Counter({window_end(n): 1 for n in (1, 2, 3, 4)})
