"""Pull one window from the warehouse: the window's rows and the matured window's labelled rows."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.errors import WarehouseUnavailable
from tasks.results import Window, WindowData
from tasks.source.window import read_window


@task(name="extract-window", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5,
      retry_condition_fn=lambda _task, _run, state: _is_transient(state))
def extract_window(config: ModelConfig, window: Window) -> WindowData:
    """The window's rows (monitored columns) and the matured window's labelled rows, in one pass where the
    two ranges overlap."""
    current, labelled = read_window(config, window)
    return WindowData(window=window, current=current, labelled=labelled)


def _is_transient(state: object) -> bool:
    try:
        state.result()  # type: ignore[attr-defined]
    except WarehouseUnavailable:
        return True
    except Exception:
        return False
    return False
