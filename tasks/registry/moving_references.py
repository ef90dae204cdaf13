"""References that move with the window: the same period one season earlier (`reference: {from: lag}`) or the
log just before the window (`from: rolling`).

They are read from the inference log for each window and profiled there (drift thresholds calibrated from the
reference's own schedule-sized chunks, the baseline the logged predictions' score on its labelled rows). They
are not stored: a rerun reads the same rows again. Where the period holds fewer rows than `policy.min_rows`
(the first season of a `lag: 1y`), the window is measured against the champion's reference instead.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from tasks.config import ModelConfig
from tasks.metrics import score
from tasks.monitor.html_report import sample_rows, seed_for
from tasks.registry.profiles import performance_chunks, profile_reference
from tasks.results import Reference
from tasks.schedule import window_start

MOVING = ("lag", "rolling")
KEPT_ROWS = 20_000  # rows kept for the report's sample and the estimate; the profile is built from all


def moving_bounds(config: ModelConfig, window_end: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the reference of the window ending at `window_end`."""
    start = window_start(config, window_end)
    reference = config.reference
    if reference.from_ == "lag" and reference.lag is not None:
        return reference.lag.before(start), reference.lag.before(window_end)
    if reference.from_ == "rolling" and reference.length is not None:
        return reference.length.before(start), start
    raise ValueError(f"{config.name}: reference.from {reference.from_!r} does not move with the window")


def moving_reference(config: ModelConfig, window_end: datetime) -> Reference | None:
    """The window's moving reference, or None when its period holds fewer than `policy.min_rows` rows."""
    from tasks.source.query import read_range

    start, end = moving_bounds(config, window_end)
    data = read_range(config, config.monitored_columns, start, end)
    if len(data) < config.policy.min_rows:
        return None
    columns = [c for c in config.monitored_columns if c in data]
    profile = profile_reference(config, data[columns], start, end,
                                performance_chunks(config, data, start, end, None))
    version = f"{config.reference.from_}-{start:%Y%m%dT%H%M}"
    kept = sample_rows(data[columns], config.source.timestamp, max(KEPT_ROWS, config.drift.report_rows),
                       seed_for(config.name, version))
    return Reference(version=version, data=kept, performance=logged_score(config, data), profile=profile,
                     calibration=profile.calibration)


def logged_score(config: ModelConfig, data: pd.DataFrame) -> float | None:
    """The logged predictions' score on the labelled rows (None without any)."""
    target, prediction = config.columns.target.column, config.columns.prediction
    if target not in data or prediction not in data:
        return None
    predicted = pd.to_numeric(data[prediction], errors="coerce")
    rows = data[data[target].notna() & predicted.notna()]
    if rows.empty:
        return None
    return score(config.performance.metric, rows[target], predicted[rows.index])
