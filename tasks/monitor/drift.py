"""Measure how one window drifted from its reference: features, prediction, target and performance.

Every column is scored against the reference version's stored profile (`tasks.monitor.profile`), with the
method pinned for it, vectorised and equal to Evidently's own score (`tasks.monitor.scores`); the reference
rows are never scanned again. A column's threshold is the band learned from the reference's own chunks
(`tasks.monitor.calibrate`), or its fixed threshold where one is configured or too few chunks could be
scored. The features then share one false-alarm budget (`tasks.monitor.false_alarms`): a feature counts as
drifted only when it is outside its band *and* survives the control across all features.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.errors import DataError
from tasks.memory import release_freed_memory
from tasks.monitor.calibrate import Band, Calibration
from tasks.monitor.estimate import with_estimate
from tasks.monitor.false_alarms import FeatureEvidence, control_false_alarms
from tasks.monitor.performance import measure_performance
from tasks.monitor.profile import CategoricalProfile, ColumnProfile, ReferenceProfile, label_counts
from tasks.monitor.scores import CannotScore, ColumnScore, score_column
from tasks.monitor.scores_pushdown import score_aggregate
from tasks.registry.profiles import numeric_prediction
from tasks.results import (
    ColumnDrift,
    ColumnKind,
    DriftSummary,
    PerformanceSummary,
    Reference,
    Unmeasurable,
    WindowData,
)
from tasks.source.pushdown import CategoryCounts, ColumnAggregate, NumericBuckets, WindowAggregates

# Unseen categories in fewer rows than this share are noted on the column, not warned about.
UNSEEN_WARNING_SHARE = 0.01


class DriftError(DataError):
    """A window or reference that cannot be measured at all."""


@dataclass(frozen=True)
class Monitored:
    """A column as it is scored: its kind, pinned method, threshold and where that threshold came from."""

    name: str
    kind: ColumnKind
    method: str
    threshold: float
    source: str
    band: Band | None


def _pinned(config: ModelConfig, calibration: Calibration | None, name: str, kind: ColumnKind,
            numeric: bool) -> Monitored:
    drift = config.drift
    method = drift.method_for(name, "numeric" if numeric else "categorical")
    fixed = drift.fixed_threshold_for(name)
    band = calibration.get(name) if calibration is not None and fixed is None else None
    if band is not None and band.threshold is not None:
        return Monitored(name, kind, method, band.threshold, band.source, band)
    if fixed is not None:
        return Monitored(name, kind, method, fixed, "fixed", None)
    why = band.note if band is not None and band.note else "the reference has no calibration"
    return Monitored(name, kind, method, drift.fallback_threshold, f"fixed fallback ({why})", None)


def monitored_columns(config: ModelConfig, reference: Reference) -> list[Monitored]:
    """Drift features, then the prediction, then the target, each with its method and threshold."""
    calibration = Calibration.from_dict(reference.calibration) if reference.calibration else None
    cols = config.columns
    numeric_prediction_ = numeric_prediction(config, reference.data)
    return [*(_pinned(config, calibration, c, "numeric", True) for c in cols.drift_numeric),
            *(_pinned(config, calibration, c, "categorical", False) for c in cols.drift_categorical),
            _pinned(config, calibration, cols.prediction, "prediction", numeric_prediction_),
            _pinned(config, calibration, cols.target.column, "target", config.task == "regression")]


def unseen_categories(profile: CategoricalProfile, counts: dict[str, int]) -> tuple[str | None, bool]:
    """The same from the window's counts per category."""
    known = set(profile.categories)
    unseen = pd.Series({k: v for k, v in counts.items() if k not in known}, dtype="int64")
    if not len(unseen):
        return None, False
    unseen = unseen.sort_values(ascending=False, kind="stable")
    shown = ", ".join(map(str, unseen.index[:5])) + (f" and {len(unseen) - 5} more" if len(unseen) > 5 else "")
    text = f"{int(unseen.sum())} rows with values not in the reference: {shown}"
    return text, bool(unseen.sum() >= UNSEEN_WARNING_SHARE * sum(counts.values()))


def _single_value(values: pd.Series, counted: pd.Series | None = None) -> object | None:
    """The window's one value when it holds exactly one (missing values aside), else None; numbers are
    compared by their minimum and maximum, which costs no hashing of a million rows; other values are counted
    (a table of the distinct values, not one sized for every row, as `nunique` builds), or read from
    `counted`, their `value_counts` already made."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        low, high = values.min(), values.max()
        return low if pd.notna(low) and low == high else None
    counts = values.value_counts(dropna=True, sort=False) if counted is None else counted  # first seen first
    seen = counts[counts.to_numpy() > 0]  # a categorical also counts the categories it does not hold
    return seen.index[0] if len(seen) == 1 else None


def _score(column: Monitored, profile: ReferenceProfile, values: pd.Series | None, severity: str) -> ColumnDrift:
    """One column's drift, or why it could not be scored (a constant reference is a note, not a warning)."""
    def unmeasured(issue: str | None, note: str | None = None) -> ColumnDrift:
        return ColumnDrift(column.name, column.kind, column.method, column.threshold, None, False, issue, note,
                           threshold_source=column.source, severity=severity)  # type: ignore[arg-type]

    if values is None:
        return unmeasured("missing from this window")
    if column.name not in profile.columns:
        return unmeasured("missing from the reference")
    reference_profile = profile[column.name]
    raw, counts = None, {}
    if isinstance(reference_profile, CategoricalProfile):  # counted once: the score, unseen categories, one value
        raw = values.value_counts(dropna=True, sort=False)
        counts = label_counts(raw)
        result = score_aggregate(column.method, reference_profile,
                                 CategoryCounts(column.name, counts, len(values) - sum(counts.values())),
                                 column.threshold)
    else:
        result = score_column(column.method, reference_profile, values, column.threshold)
    if isinstance(result, CannotScore):
        return _not_scored(column, result, severity)
    assert isinstance(result, ColumnScore)
    return _scored(column, result, severity, reference_profile, counts, _single_value(values, raw))


def _not_scored(column: Monitored, result: CannotScore, severity: str) -> ColumnDrift:
    """A column that could not be scored: a constant reference is a note, anything else an issue."""
    issue, note = (None, result.message) if result.reason == "constant_reference" else (result.message, None)
    return ColumnDrift(column.name, column.kind, column.method, column.threshold, None, False, issue, note,
                       threshold_source=column.source, severity=severity)  # type: ignore[arg-type]


def _scored(column: Monitored, result: ColumnScore, severity: str, reference_profile: ColumnProfile,
            counts: dict[str, int], only: object | None, remark: str | None = None) -> ColumnDrift:
    """A scored column with what else its window showed: for a categorical column, the categories of its
    `counts` the reference never saw (a warning when there are many, else a note); the one value a constant
    window holds; and a `remark` noted beside."""
    issue, note = None, None
    if isinstance(reference_profile, CategoricalProfile):
        note, loud = unseen_categories(reference_profile, counts)
        issue, note = (note, None) if loud else (None, note)
    if only is not None:
        issue = "; ".join(filter(None, [f"constant in this window ({only})", issue]))
    if remark:
        note = "; ".join(filter(None, [note, remark]))
    p_value = column.band.tail_probability(result.score) if column.band is not None else None
    return ColumnDrift(column.name, column.kind, result.method, column.threshold, result.score, result.drifted,
                       issue, note, p_value=p_value, threshold_source=column.source,
                       severity=severity)  # type: ignore[arg-type]


def _performance(config: ModelConfig, data: WindowData, reference: Reference,
                 baseline: Reference) -> PerformanceSummary:
    """The metric on the matured labelled window with its interval and allowance against `baseline` (the
    reference of the version that made the labelled rows' predictions), and (when configured) the label-free
    estimate on the current window. The bootstrap's seed depends only on the model and window."""
    chunks = (baseline.calibration or {}).get("performance")
    seed = int.from_bytes(hashlib.sha256(f"{config.name}/{data.window.end.isoformat()}".encode()).digest()[:4],
                          "little")
    summary = measure_performance(config, data.labelled, baseline.performance, chunks, seed=seed)
    return with_estimate(summary, config, data.current, reference.data)


def _score_counted(column: Monitored, profile: ReferenceProfile, counted: ColumnAggregate,
                   severity: str) -> ColumnDrift:
    """One feature's drift from what the warehouse counted (`source.pull: aggregates`), with the same notes as
    from rows: a constant reference, categories the reference never saw, a window holding one value."""
    reference_profile = profile[column.name]
    result = score_aggregate(column.method, reference_profile, counted, column.threshold)
    if isinstance(result, CannotScore):
        return _not_scored(column, result, severity)
    if isinstance(counted, CategoryCounts):
        counts = counted.counts
        only: object | None = next(iter(counts)) if len(counts) == 1 else None
    else:
        assert isinstance(counted, NumericBuckets)
        counts, (low, high) = {}, (np.nanmin(counted.lows), np.nanmax(counted.highs))
        only = format(low, "g") if low == high else None
    remark = f"counted in the warehouse: within ±{result.error:.2g} of the exact score" if result.error else None
    return _scored(column, result, severity, reference_profile, counts, only, remark)


@task(name="measure-drift", cache_policy=NO_CACHE)
def measure_drift(config: ModelConfig, data: WindowData, reference: Reference,
                  baseline: Reference | None = None, counted: WindowAggregates | None = None
                  ) -> DriftSummary | Unmeasurable:
    """The window's drift, or the data problem that keeps it from being measured (labels a binary classifier
    cannot read, say), returned rather than raised: a verdict, not a failed run."""
    try:
        return measure_window(config, data, reference, baseline, counted)
    except DataError as exc:
        return Unmeasurable(str(exc))


def measure_window(config: ModelConfig, data: WindowData, reference: Reference,
                   baseline: Reference | None = None, counted: WindowAggregates | None = None) -> DriftSummary:
    """Score every monitored column of the window against the reference profile and decide which drifted; the
    performance is judged against `baseline` when given (the labelled rows were served by another version).
    With `counted` (`source.pull: aggregates`) the features are scored from the warehouse's aggregates."""
    if data.current.empty:
        raise DriftError("no rows to measure: the current window is empty")
    profile = reference.profile
    if not isinstance(profile, ReferenceProfile):
        raise DriftError(f"reference {reference.version!r} has no profile to score against")
    severity = config.drift.severity
    kinds = {"numeric": severity.features, "categorical": severity.features, "prediction": severity.prediction,
             "target": severity.target}

    def one(column: Monitored) -> ColumnDrift:
        if counted is not None and column.name in counted.columns and column.kind in ("numeric", "categorical"):
            return _score_counted(column, profile, counted.columns[column.name], kinds[column.kind])
        if column.kind != "target":
            return _score(column, profile, data.current.get(column.name, None), kinds[column.kind])
        values = data.labelled.get(column.name, None)
        if values is not None and values.notna().sum() < config.performance.min_labelled_rows:
            return ColumnDrift(column.name, "target", column.method, column.threshold, None, False,
                               f"too few labelled rows ({int(values.notna().sum())})",
                               threshold_source=column.source, severity=kinds["target"])
        return _score(column, profile, values, kinds[column.kind])

    # numpy sorts and counts outside the GIL: the columns of a long window are scored on every core
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        results = list(pool.map(one, monitored_columns(config, reference)))
    release_freed_memory()  # the scoring threads' sorted copies, freed: not kept under the bootstrap
    performance = _performance(config, data, reference, baseline or reference)
    release_freed_memory()  # the bootstrap's temporaries: not kept under the report
    return _controlled(config, results, performance)


def _controlled(config: ModelConfig, results: list[ColumnDrift], performance: PerformanceSummary) -> DriftSummary:
    """Apply the false-alarm control across the features; the prediction and target keep their own bands."""
    features = [r for r in results if r.kind in ("numeric", "categorical") and r.score is not None]
    control = config.drift.false_alarms
    decision = control_false_alarms([FeatureEvidence(r.column, r.drifted, r.p_value) for r in features],
                                    control.control, control.rate)
    flagged = set(decision.flagged)
    controlled = [ColumnDrift(**{**r.__dict__, "drifted": r.column in flagged})
                  if r.kind in ("numeric", "categorical") else r for r in results]
    share = len(flagged) / len(features) if features else 0.0
    notes = [f"{r.column}: {r.note}" for r in results if r.score is None and r.issue is None and r.note]
    return DriftSummary(columns=controlled, drift_share=share, performance=performance,
                        false_alarm_control=decision.description, notes=notes)
