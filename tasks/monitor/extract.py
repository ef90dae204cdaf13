"""Pull one window from the warehouse: the window's rows and the matured window's labelled rows."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.errors import WarehouseUnavailable
from tasks.results import Window, WindowData
from tasks.source.query import read_range


@task(name="extract-window", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5,
      retry_condition_fn=lambda _task, _run, state: _is_transient(state))
def extract_window(config: ModelConfig, window: Window) -> WindowData:
    """The window's rows (monitored columns) and the matured window's labelled rows."""
    cols = config.columns
    current = read_range(config, config.monitored_columns, window.start, window.end)
    labelled = read_range(config, [config.source.id, config.source.timestamp, cols.prediction,
                                   cols.target.column], window.labelled_start, window.labelled_end,
                          labelled_only=True)
    return WindowData(window=window, current=current, labelled=labelled)


def _is_transient(state: object) -> bool:
    try:
        state.result()  # type: ignore[attr-defined]
    except WarehouseUnavailable:
        return True
    except Exception:
        return False
    return False
