"""Record one window in the monitoring store, and read the history the policy needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.results import PerformanceSummary
from tasks.retries import STORE_OUTAGE
from tasks.schedule import previous_ticks
from tasks.store import windows as store
from tasks.store.windows import Recorded, WindowRecord


@dataclass(frozen=True)
class History:
    """The scheduled windows before this one that the persistence rule looks at, oldest first: their breach
    flags (None for a window without a usable record: persistence counts scheduled windows, not rows) and their
    recorded performance (None where there is none), which a drop confirmed over several windows pools."""

    breaches: list[bool | None]
    performance: list[PerformanceSummary | None]


@task(name="read-history", cache_policy=NO_CACHE, **STORE_OUTAGE)
def read_history(engine: sa.Engine, config: ModelConfig, window_end: datetime) -> History:
    """The recorded history of the `of_last - 1` scheduled windows before `window_end`."""
    ticks = previous_ticks(config, window_end, config.policy.persistence.of_last - 1)
    return History(*store.recorded_history(engine, config.name, config.performance.metric, ticks))


@task(name="record-window", cache_policy=NO_CACHE, **STORE_OUTAGE)
def record_window(engine: sa.Engine, record: WindowRecord) -> Recorded:
    """Write the window's verdict, drift, validation and performance; a rerun replaces them, and a rerun that
    changed something is a new, audited revision. One transaction: a store lost midway leaves nothing of the
    window written, and the task is retried with a back-off."""
    return store.record_window(engine, record)
