"""A window's performance metric with a bootstrap confidence interval, and the drop it is allowed.

The metric is computed on the matured window's labelled rows. Its confidence interval comes from a
vectorised bootstrap of those rows (each resample is a vector of row counts, so one matrix product scores
hundreds of resamples; deterministic given the seed). The allowed drop (`performance.max_drop`) is absolute
(`0.05`), relative to the reference value (`5%`) or in units of the spread of the metric over the
reference's own window-sized chunks (`2sd`), so a new champion with another baseline keeps an allowance that
fits it. The chunk values are computed once per reference version (`performance_by_chunk`) and stored in its
calibration under "performance". When a spread allowance has too few chunks to stand on, the allowance falls
back to 5 % of the reference value and says so.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from tasks.config import ModelConfig
from tasks.config.types import Allowance, Span
from tasks.errors import DataError
from tasks.metrics import (
    HIGHER_IS_BETTER,
    binary_target,
    multiclass_codes,
    multiclass_score,
    score,
    weighted_multiclass,
)
from tasks.monitor.calibrate import _chunk_rows
from tasks.results import PerformanceSummary
from tasks.retrain.gate import WEIGHTED

RESAMPLES = 1000
BOOTSTRAP_ROWS = 2_000  # larger windows: resample this many of their rows and rescale by sqrt(rows)
MAX_CELLS = 1_000_000  # resamples x rows held at once: 8 MB of float64 counts, ~50 MB with the metric's temporaries
FALLBACK_ALLOWANCE = Allowance(5.0, "relative")  # when a spread allowance has fewer than two chunks
Weighted = Callable[[np.ndarray], np.ndarray]  # row weights (resamples x rows) → the metric per resample


def _num(value: float) -> str:
    text = f"{value + 0.0:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass(frozen=True)
class Scorable:
    """A window's labelled rows, ready to score: the metric's value, and the metric of any subset of the rows
    (given by their positions) as a function of row weights."""

    rows: int
    value: float | None
    weighted: Callable[[np.ndarray], Weighted] | None


def scorable(config: ModelConfig, labelled: pd.DataFrame) -> Scorable:
    """The labelled rows that can be scored (target and prediction present) and their metric.

    Raises DataError naming the field when the labels do not fit the model's task (a binary classifier whose
    target is neither 0/1 nor has `columns.target.positive`, a prediction that is not a number).
    """
    metric, cols = config.performance.metric, config.columns
    target, prediction = cols.target.column, cols.prediction
    needed = [target, prediction] if config.task != "multiclass" or metric != "log_loss" else [target]
    if config.task == "multiclass" and metric == "log_loss":
        needed += list(cols.probabilities.values())
    if not set(needed) <= set(labelled):
        return Scorable(0, None, None)
    present = np.logical_and.reduce([labelled[c].notna().to_numpy() for c in needed])
    rows = labelled if present.all() else labelled[present]  # `dropna(subset=needed)`, no copy when all are
    if rows.empty:
        return Scorable(0, None, None)
    if config.task == "multiclass":
        probabilities = {c: rows[name] for c, name in cols.probabilities.items() if name in rows}
        predicted = rows.get(prediction)
        _, y, p, matrix = multiclass_codes(rows[target], predicted, probabilities,
                                           f"columns.target (column {target!r})")
        value = multiclass_score(metric, y, p, matrix)
        return Scorable(len(rows), value, lambda at: weighted_multiclass(
            metric, y[at], None if p is None else p[at], None if matrix is None else matrix[at]))
    p = pd.to_numeric(rows[prediction], errors="coerce").to_numpy(dtype=float)
    if np.isnan(p).any():
        what = "P(positive)" if config.task == "classification" else "the predicted value"
        raise DataError(f"columns.prediction (column {prediction!r}) should hold {what} as numbers")
    if config.task == "classification":
        y = binary_target(rows[target], cols.target.positive, f"columns.target (column {target!r})")
    else:
        y = pd.to_numeric(rows[target], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y).any():
            raise DataError(f"columns.target (column {target!r}) should hold numbers for a regression model")
    value = score(metric, y, p)
    function = WEIGHTED[metric]
    return Scorable(len(rows), value, lambda at: lambda w: function(y[at], p[at], w))


def bootstrap_interval(weighted: Callable[[np.ndarray], Weighted], rows: int, value: float, *, confidence: float,
                       resamples: int = RESAMPLES, seed: int = 0) -> tuple[float | None, float | None]:
    """The central `confidence` interval of the metric, from bootstrap resamples of the rows.

    The interval is the full window's `value` plus the percentiles of the resampled metric's deviation from
    its value on the resampled rows (the percentile interval, centred on the exact value). Windows of
    more than BOOTSTRAP_ROWS rows resample a fixed random subset of that many rows and shrink the deviations
    by sqrt(subset / rows): every metric here is a mean or a U-statistic, whose spread falls as 1/sqrt(rows),
    and this keeps 1000 resamples of 100k rows under a second. Resamples where the metric is undefined (one
    class only, for roc_auc) are left out; (None, None) when more than half are.
    """
    if rows < 2:
        return None, None
    rng = np.random.default_rng(seed)
    size = min(rows, BOOTSTRAP_ROWS)
    at = np.arange(rows) if size == rows else np.sort(rng.choice(rows, size=size, replace=False))
    function = weighted(at)
    centre = float(function(np.ones((1, size)))[0])
    if not np.isfinite(centre):
        return None, None
    per_batch = max(1, min(resamples, MAX_CELLS // size))
    values: list[np.ndarray] = []
    done = 0
    while done < resamples:
        batch = min(per_batch, resamples - done)
        index = rng.integers(0, size, size=(batch, size)) + size * np.arange(batch)[:, None]
        counts = np.bincount(index.ravel(), minlength=batch * size).reshape(batch, size).astype(float)
        values.append(np.asarray(function(counts), dtype=float))
        done += batch
    scores = np.concatenate(values)
    scores = scores[~np.isnan(scores)]
    if len(scores) * 2 < resamples:
        return None, None
    tail = (1 - confidence) / 2
    low, high = (np.quantile(scores, [tail, 1 - tail]) - centre) * np.sqrt(size / rows)
    return value + float(low), value + float(high)


def resolve_allowance(max_drop: Allowance, reference_value: float | None,
                      chunk_values: Sequence[float] | None) -> tuple[float | None, str]:
    """The allowed drop in metric units and where it comes from, for reasons."""
    chunks = [v for v in (chunk_values or []) if np.isfinite(v)]
    spread = statistics.stdev(chunks) if len(chunks) >= 2 else None
    allowance = max_drop.resolve(reference_value, spread)
    if max_drop.unit == "absolute":
        return allowance, "fixed in performance.max_drop"
    if max_drop.unit == "spread":
        if allowance is not None and spread is not None:
            times = {1.0: "the spread", 2.0: "twice the spread"}.get(max_drop.value,
                                                                     f"{max_drop.value:g} times the spread")
            return allowance, f"{max_drop}: {times} ({_num(spread)}) of {len(chunks)} reference chunks"
        fallback = FALLBACK_ALLOWANCE.resolve(reference_value, None)
        why = (f"{max_drop} needs the spread of at least 2 reference chunks with enough labelled rows; "
               f"{len(chunks)} found")
        if fallback is None:
            return None, f"{why}, and the reference has no value to fall back on"
        return fallback, f"{FALLBACK_ALLOWANCE} of the reference {_num(reference_value or 0.0)} ({why})"
    if allowance is None:
        return None, f"{max_drop} of the reference, which has no value"
    return allowance, f"{max_drop} of the reference {_num(reference_value or 0.0)}"


def measure_performance(config: ModelConfig, labelled: pd.DataFrame, reference_value: float | None,
                        chunk_values: Sequence[float] | None, *, seed: int) -> PerformanceSummary:
    """The metric on the matured window's labelled rows, its confidence interval and the allowed drop.

    With fewer than `performance.min_labelled_rows` scorable rows the value stays None (the verdict says
    concept drift was not checked); the allowance is resolved either way.
    """
    settings = config.performance
    metric = settings.metric
    allowance, source = resolve_allowance(settings.max_drop, reference_value, chunk_values)
    rows = scorable(config, labelled)
    base = PerformanceSummary(metric, None, reference_value, rows.rows, HIGHER_IS_BETTER[metric],
                              allowance=allowance, allowance_source=source)
    if rows.rows < settings.min_labelled_rows or rows.value is None or not np.isfinite(rows.value):
        return base
    low, high = (None, None) if rows.weighted is None else bootstrap_interval(
        rows.weighted, rows.rows, rows.value, confidence=settings.confidence, seed=seed)
    return PerformanceSummary(metric, rows.value, reference_value, rows.rows, HIGHER_IS_BETTER[metric],
                              ci_low=low, ci_high=high, allowance=allowance, allowance_source=source)


def performance_by_chunk(config: ModelConfig, reference: pd.DataFrame, *, window: Span | timedelta | None,
                         timestamp: str | None, window_rows: int | None = None, start: datetime | None = None,
                         end: datetime | None = None,
                         bounds: Sequence[tuple[datetime, datetime]] | None = None) -> list[float]:
    """The metric on each window-sized chunk of the reference (cut as the drift calibration cuts it).

    Chunks with fewer than `performance.min_labelled_rows` labelled rows, or where the metric is undefined,
    are skipped. The caller stores the list in the reference's calibration under "performance".
    """
    if reference.empty:
        return []
    _, _, positions = _chunk_rows(reference, config.drift.calibration, timestamp, window, window_rows, start, end,
                                  bounds)
    values: list[float] = []
    for rows in positions:
        chunk = scorable(config, reference.iloc[rows])
        if chunk.rows >= config.performance.min_labelled_rows and chunk.value is not None \
                and np.isfinite(chunk.value):
            values.append(chunk.value)
    return values
