"""The monitoring store (PostgreSQL) goes away during a monitor run, reached through a proxy the test cuts.

A short outage is ridden out: the store's tasks retry with a growing back-off and the window is recorded once.
A long one ends the run with one message naming DRIFTFLOW_STORE_URL, with nothing of the window written, and
a rerun once the store is back records it exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from flows.monitor import monitor
from tasks.config import ModelConfig
from tasks.errors import StoreUnavailable
from tasks.store import windows as store_windows
from tasks.store.windows import count_window_rows
from tests.integration.conftest import CreateDatabase
from tests.support import FEATURES_BREACH, copy_project, log_week, seed_monitored, week, window_end
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture()
def through_proxy(prefect_server: None, driftflow_home: Path, create_database: CreateDatabase, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModelConfig, TcpProxy, str]]:
    """A seeded model whose store is a PostgreSQL database reached through a proxy; yields the config, the proxy
    and the direct URL (for counting records while the proxy is cut)."""
    direct = create_database("outage_store")
    url = sa.make_url(direct)
    with TcpProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        monkeypatch.setenv("DRIFTFLOW_STORE_URL", url.set(port=proxy.port).render_as_string(hide_password=False))
        config = seed_monitored(copy_project(tmp_path, monkeypatch, **FEATURES_BREACH))
        log_week(config, week(1, seed=1))
        yield config, proxy, direct


def records(direct: str) -> dict[str, int]:
    return count_window_rows(sa.create_engine(direct, poolclass=sa.pool.NullPool), "flights-delay", window_end(1))


def cut_while_recording(proxy: TcpProxy, monkeypatch: pytest.MonkeyPatch, back_after: float | None) -> None:
    """Cut the proxy the first time a window's records are written (and restore it `back_after` seconds later)."""
    original = store_windows.record_window
    cuts: list[float] = []

    def record(engine: sa.Engine, record: store_windows.WindowRecord) -> store_windows.Recorded:
        if not cuts:
            cuts.append(back_after or 0.0)
            proxy.cut()
            if back_after is not None:
                threading.Timer(back_after, proxy.restore).start()
        return original(engine, record)

    monkeypatch.setattr(store_windows, "record_window", record)


def test_a_short_store_outage_while_recording_is_retried_and_recorded_once(
        through_proxy: tuple[ModelConfig, TcpProxy, str], monkeypatch: pytest.MonkeyPatch) -> None:
    config, proxy, direct = through_proxy
    cut_while_recording(proxy, monkeypatch, back_after=3.0)
    summary = dict(monitor(model=config.name, window_end=window_end(1), actions=False))
    assert summary["verdict"] == "ok", summary["reasons"]
    assert records(direct)["monitor_runs"] == 1 and records(direct)["column_drift"] == 12


def test_a_long_store_outage_ends_the_run_naming_the_setting_and_writes_nothing(
        through_proxy: tuple[ModelConfig, TcpProxy, str], monkeypatch: pytest.MonkeyPatch) -> None:
    config, proxy, direct = through_proxy
    cut_while_recording(proxy, monkeypatch, back_after=None)
    with pytest.raises(StoreUnavailable, match="unavailable \\(the URL comes from DRIFTFLOW_STORE_URL\\)"):
        monitor(model=config.name, window_end=window_end(1), actions=False)
    assert set(records(direct).values()) == {0}  # not half-written

    proxy.restore()
    summary = dict(monitor(model=config.name, window_end=window_end(1), actions=False))
    assert summary["verdict"] == "ok" and records(direct)["monitor_runs"] == 1
