"""Record one window in the monitoring store, and read the history the policy needs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.schedule import previous_ticks
from tasks.store import windows as store
from tasks.store.windows import Recorded, WindowRecord


@task(name="read-history", cache_policy=NO_CACHE)
def read_history(engine: sa.Engine, config: ModelConfig, window_end: datetime) -> list[bool | None]:
    """Breach flags of the scheduled windows before this one that the persistence rule looks at, oldest first;
    None for a scheduled window without a usable record (persistence counts scheduled windows, not rows)."""
    ticks = previous_ticks(config, window_end, config.policy.persistence.of_last - 1)
    return store.breach_history(engine, config.name, ticks)


@task(name="record-window", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def record_window(engine: sa.Engine, record: WindowRecord) -> Recorded:
    """Write the window's verdict, drift, validation and performance; a rerun replaces them, and a rerun that
    changed something is a new, audited revision."""
    return store.record_window(engine, record)
