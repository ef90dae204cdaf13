"""What a reference version computes once: the profile every drift method scores against, and the
calibration (each statistic's normal band) learned from the reference's own window-sized chunks.

The chunks are the schedule's own windows that fit wholly inside the reference window, so a chunk is cut
and scored exactly as a monitored window is (calendar months for a monthly schedule, weeks for a weekly one).
With `drift.calibration.chunks: rows` the reference is cut into chunks of a window's typical row count.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from tasks import artifacts
from tasks.artifact_keys import read_stored, stored_key
from tasks.config import ModelConfig
from tasks.monitor.calibrate import calibrate, statistics_for
from tasks.monitor.performance import performance_by_chunk
from tasks.monitor.profile import ReferenceProfile, build_profile
from tasks.schedule import resolve_window, window_ends


def numeric_prediction(config: ModelConfig, reference: pd.DataFrame) -> bool:
    """Whether the prediction is scored as a numeric column (a score or probability) or as categories."""
    prediction = config.columns.prediction
    if config.task == "regression" or prediction not in reference:
        return True
    values = reference[prediction]
    return bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))


def scored_columns(config: ModelConfig, reference: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical): the drift features, the prediction and the target, as they are scored."""
    cols = config.columns
    numeric, categorical = list(cols.drift_numeric), list(cols.drift_categorical)
    (numeric if numeric_prediction(config, reference) else categorical).append(cols.prediction)
    (numeric if config.task == "regression" else categorical).append(cols.target.column)
    return numeric, categorical


def chunk_bounds(config: ModelConfig, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The scheduled windows lying wholly inside [start, end), oldest first."""
    bounds = []
    for window_end in window_ends(config, start, end):
        window = resolve_window(config, window_end)
        if window.start >= start:
            bounds.append((window.start, window.end))
    return bounds


def profile_reference(config: ModelConfig, data: pd.DataFrame, start: datetime, end: datetime,
                      performance_chunks: list[float] | None = None) -> ReferenceProfile:
    """The reference's profile with its calibration attached (`calibration["performance"]`: the metric on
    each chunk, where known, so a `2sd` allowance has a spread)."""
    numeric, categorical = scored_columns(config, data)
    profile = build_profile(data, numeric, categorical)
    timestamp = config.source.timestamp if config.source.timestamp in data else None
    bounds = chunk_bounds(config, start, end)
    window_rows = None
    if config.drift.calibration.chunks == "rows" or timestamp is None:
        window_rows = _typical_rows(data, timestamp, bounds)
    calibration = calibrate(data, statistics_for(config, numeric_prediction=numeric_prediction(config, data)),
                            config.drift.calibration, timestamp=timestamp,
                            window=config.schedule.window if not config.schedule.by_tick else None,
                            window_rows=window_rows, start=start, end=end, bounds=bounds)
    stored: dict[str, Any] = calibration.to_dict()
    stored["performance"] = performance_chunks
    return profile.with_calibration(stored)


def performance_chunks(config: ModelConfig, data: pd.DataFrame, start: datetime, end: datetime,
                       out_of_sample_from: datetime | None = None) -> list[float]:
    """The performance metric on each chunk of the reference with enough labelled rows, cut as the drift
    calibration cuts it: the spread a `2sd` allowance is counted in.

    Chunks before `out_of_sample_from` are left out: a model scores its own training rows far better than
    any window it serves (a gradient-boosted model's in-sample ROC AUC near 1 against 0.6 out of sample), so
    their spread says nothing about a served window's noise.
    """
    timestamp = config.source.timestamp if config.source.timestamp in data else None
    bounds = [(a, b) for a, b in chunk_bounds(config, start, end)
              if out_of_sample_from is None or a >= out_of_sample_from]
    window_rows = None
    if config.drift.calibration.chunks == "rows" or timestamp is None:
        window_rows = _typical_rows(data, timestamp, bounds)
    return performance_by_chunk(config, data, window=None if config.schedule.by_tick else config.schedule.window,
                                timestamp=timestamp, window_rows=window_rows, start=start, end=end, bounds=bounds)


def _typical_rows(data: pd.DataFrame, timestamp: str | None, bounds: list[tuple[datetime, datetime]]) -> int:
    """A window's typical row count: the median over the scheduled windows inside the reference."""
    if timestamp is None or not bounds:
        return max(1, len(data) // max(len(bounds), 1))
    moments = pd.to_datetime(data[timestamp], utc=True)
    counts = [int(((moments >= a) & (moments < b)).sum()) for a, b in bounds]
    return max(1, int(pd.Series(counts).median()))


def profile_key(parquet_key: str) -> str:
    """The profile's key beside the reference's rows: `references/<model>/<version>-<random>.profile.npz`."""
    return str(PurePosixPath(parquet_key).with_suffix(".profile.npz"))


def write_profile(profile: ReferenceProfile, parquet_location: str) -> str:
    """Store the profile beside the reference's rows (one file per reference attempt); returns its URL.

    `parquet_location` is the rows' key or the URL the store recorded for them."""
    return artifacts.write_bytes(profile_key(stored_key(parquet_location)), profile.to_bytes())


def read_profile(location: str) -> ReferenceProfile:
    """The profile stored at a recorded location (its URL or key), from the artifact store."""
    return ReferenceProfile.from_bytes(read_stored(location))
