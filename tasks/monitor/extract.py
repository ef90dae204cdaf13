"""Pull one window from the warehouse: the window's rows and the matured window's labelled rows."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.errors import DataError
from tasks.results import Unmeasurable, Window, WindowData
from tasks.retries import WAREHOUSE_OUTAGE
from tasks.source.window import read_window


@task(name="extract-window", cache_policy=NO_CACHE, **WAREHOUSE_OUTAGE)
def extract_window(config: ModelConfig, window: Window, features: bool = False) -> WindowData | Unmeasurable:
    """The window's rows (monitored columns) and the matured window's labelled rows (with the features too when
    `features`: a replay scores them), in one pass where the two ranges overlap; or, where the rows cannot be
    read as data (timestamps that are not times, say), the problem, returned rather than raised: a
    `data_invalid` verdict, not a failed run."""
    try:
        current, labelled = read_window(config, window, features=features)
    except DataError as exc:
        return Unmeasurable(str(exc))
    return WindowData(window=window, current=current, labelled=labelled)

