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
from tasks.metrics import labelled_predictions, score
from tasks.registry.profiles import performance_chunks, profile_reference
from tasks.registry.references import kept_rows
from tasks.results import Reference
from tasks.schedule import window_start

MOVING = ("lag", "rolling")


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
    scored = labelled_predictions(data, config.columns.target.column, config.columns.prediction)
    baseline = score(config.performance.metric, scored[config.columns.target.column],
                     pd.to_numeric(scored[config.columns.prediction])) if len(scored) else None
    return Reference(version=version, data=kept_rows(config, data[columns], version), performance=baseline,
                     profile=profile, calibration=profile.calibration)
