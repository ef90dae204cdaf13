"""Measure how one window drifted from the reference: features, prediction, target and performance.

Columns Evidently cannot score (missing, all null, constant in the reference) are guarded out first and
reported with an `issue`; everything else goes through one Evidently report with methods pinned per column.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.metrics import ValueDrift
from evidently.presets import DataDriftPreset
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.metrics import HIGHER_IS_BETTER, score
from tasks.results import ColumnDrift, ColumnKind, DriftSummary, PerformanceSummary, Reference, WindowData

# Unseen categories in fewer rows than this share are noted on the column, not warned about.
UNSEEN_WARNING_SHARE = 0.01


class DriftError(ValueError):
    """A window or reference that cannot be measured at all."""


@dataclass(frozen=True)
class _Column:
    name: str
    kind: ColumnKind
    numeric: bool  # what Evidently is told: numerical or categorical
    method: str
    threshold: float


@dataclass(frozen=True)
class _Checked:
    issue: str | None
    current: pd.Series | None = None  # plain-dtype values; None when the column cannot be measured
    reference: pd.Series | None = None
    note: str | None = None  # informational only, e.g. a few rows of unseen categories


@dataclass(frozen=True)
class _Score:
    method: str
    threshold: float
    score: float
    drifted: bool


def _pinned(config: ModelConfig, name: str, kind: ColumnKind, numeric: bool) -> _Column:
    drift = config.drift
    method = drift.method_for(name, "numeric" if numeric else "categorical")
    return _Column(name, kind, numeric, method, drift.threshold_for(name))


def _monitored(config: ModelConfig, reference: pd.DataFrame) -> list[_Column]:
    """Features then the prediction, each with its pinned method and threshold."""
    cols = config.columns
    prediction = cols.prediction
    numeric_prediction = config.task == "regression" or prediction not in reference or (
        pd.api.types.is_numeric_dtype(reference[prediction])
        and not pd.api.types.is_bool_dtype(reference[prediction]))
    return [*(_pinned(config, c, "numeric", True) for c in cols.numeric),
            *(_pinned(config, c, "categorical", False) for c in cols.categorical),
            _pinned(config, prediction, "prediction", numeric_prediction)]


def _label(value: object) -> object:
    if pd.isna(value):  # type: ignore[call-overload]
        return None
    if isinstance(value, float | np.floating | bool | np.bool_):
        return format(float(value), "g")  # 1, 1.0 and True are the same category on both sides
    return str(value)


def _plain(series: pd.Series, numeric: bool) -> pd.Series:
    """Numpy-backed values Evidently accepts: float64 (inf as NaN) or str objects (None when missing)."""
    if not numeric:
        return series.astype(object).map(_label)
    try:
        values = series.astype("float64")
    except (TypeError, ValueError):
        raise DriftError(f"column {series.name!r} should be numeric but holds {series.dtype}") from None
    return values.replace([np.inf, -np.inf], np.nan)


def _one_value(series: pd.Series) -> object | None:
    values = series.dropna().unique()
    return values[0] if len(values) == 1 else None


def _guard(column: _Column, current: pd.DataFrame, reference: pd.DataFrame) -> _Checked:
    """Decide whether Evidently can score `column`; say why not, or what is odd about it."""
    name = column.name
    if name not in current:
        return _Checked("missing from this window")
    if name not in reference:
        return _Checked("missing from the reference")
    cur, ref = _plain(current[name], column.numeric), _plain(reference[name], column.numeric)
    if cur.isna().all():
        return _Checked("no values in this window (all null)")
    if ref.isna().all():
        return _Checked("no values in the reference (all null)")
    if (value := _one_value(ref)) is not None:
        return _Checked(f"constant in the reference ({value}): drift cannot be scored")
    notes = []
    if (value := _one_value(cur)) is not None:
        notes.append(f"constant in this window ({value})")
    if not column.numeric:
        unseen = cur[cur.notna() & ~cur.isin(set(ref.dropna()))].value_counts()
        if len(unseen):
            shown = ", ".join(map(str, unseen.index[:5]))
            if len(unseen) > 5:
                shown += f" and {len(unseen) - 5} more"
            text = f"{int(unseen.sum())} rows with values not in the reference: {shown}"
            if unseen.sum() >= UNSEEN_WARNING_SHARE * cur.notna().sum():
                notes.append(text)
            else:
                return _Checked("; ".join(notes) or None, cur, ref, note=text)
    return _Checked("; ".join(notes) or None, cur, ref)


def _run(metrics: list[Any], columns: list[_Column], current: pd.DataFrame, reference: pd.DataFrame,
         html: Path) -> dict[str, _Score]:
    """Run one Evidently report, save its HTML and read each ValueDrift back by column name."""
    definition = DataDefinition(numerical_columns=[c.name for c in columns if c.numeric],
                                categorical_columns=[c.name for c in columns if not c.numeric])
    with np.errstate(divide="ignore", invalid="ignore"):  # empty histogram bins; scores stay finite
        snapshot = Report(metrics, include_tests=True).run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition))
    snapshot.save_html(str(html))
    return _read_scores(json.loads(snapshot.json()))


def _read_scores(payload: dict[str, Any]) -> dict[str, _Score]:
    """ValueDrift metrics by column; `drifted` is the status of Evidently's own test on that metric."""
    failed = {t["metric_config"]["metric_id"]: t["status"] == "FAIL" for t in payload.get("tests", [])}
    scores = {}
    for metric in payload["metrics"]:
        conf = metric["config"]
        if conf["type"].rsplit(":", 1)[-1] != "ValueDrift":
            continue
        if metric["id"] not in failed:
            raise DriftError(f"Evidently returned no drift decision for column {conf['column']!r}")
        scores[conf["column"]] = _Score(conf["method"], float(conf["threshold"]), float(metric["value"]),
                                        failed[metric["id"]])
    return scores


def _target_drift(config: ModelConfig, labelled: pd.DataFrame, reference: pd.DataFrame,
                  html: Path) -> ColumnDrift:
    """Compare the matured window's labels with the reference's; needs enough labelled rows."""
    name = config.columns.target.column
    column = _pinned(config, name, "target", config.task == "regression")
    rows = labelled[labelled[name].notna()] if name in labelled else labelled
    if name in labelled and len(rows) < config.performance.min_labelled_rows:
        return ColumnDrift(name, "target", column.method, column.threshold, None, False,
                           f"too few labelled rows ({len(rows)})")
    checked = _guard(column, rows, reference)
    if checked.current is None or checked.reference is None:
        return ColumnDrift(name, "target", column.method, column.threshold, None, False, checked.issue)
    metric = ValueDrift(column=name, method=column.method, threshold=column.threshold)
    score = _run([metric], [column], checked.current.to_frame(), checked.reference.to_frame(), html)[name]
    return ColumnDrift(name, "target", score.method, score.threshold, score.score, score.drifted,
                       checked.issue)


def _performance(config: ModelConfig, labelled: pd.DataFrame,
                 reference_value: float | None) -> PerformanceSummary:
    """The configured metric on the matured labelled window (binary labels 0/1 for classification)."""
    metric = config.performance.metric
    target, prediction = config.columns.target.column, config.columns.prediction
    usable = {target, prediction} <= set(labelled)
    rows = labelled.dropna(subset=[target, prediction]) if usable else labelled[:0]
    summary = PerformanceSummary(metric, None, reference_value, len(rows), HIGHER_IS_BETTER[metric])
    if len(rows) < config.performance.min_labelled_rows:
        return summary
    y, p = _plain(rows[target], True), _plain(rows[prediction], True)
    if config.task == "classification" and not set(y.unique()) <= {0.0, 1.0}:
        raise DriftError(f"target {target!r} should hold 0/1 labels for a classification model")
    value = score(metric, y, p)  # None where undefined, e.g. one class only
    if value is None or math.isnan(value):
        return summary
    return PerformanceSummary(metric, value, reference_value, len(rows), HIGHER_IS_BETTER[metric])


@task(name="measure-drift", cache_policy=NO_CACHE)
def measure_drift(config: ModelConfig, data: WindowData, reference: Reference,
                  report_dir: Path) -> DriftSummary:
    """Measure feature, prediction and target drift and performance; save the HTML reports in `report_dir`."""
    if data.current.empty:
        raise DriftError("no rows to measure: the current window is empty")
    if reference.data.empty:
        raise DriftError(f"no rows to compare against: reference {reference.version!r} is empty")
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    columns = _monitored(config, reference.data)
    checked = {c.name: _guard(c, data.current, reference.data) for c in columns}
    measured = [c for c in columns if checked[c.name].current is not None]
    main_html = report_dir / "drift.html"
    scores: dict[str, _Score] = {}
    if measured:
        names = [c.name for c in measured]
        preset = DataDriftPreset(columns=names, drift_share=config.drift.dataset_share,
                                 per_column_method={c.name: c.method for c in measured},
                                 per_column_threshold={c.name: c.threshold for c in measured})
        current = pd.DataFrame({c.name: checked[c.name].current for c in measured})
        ref = pd.DataFrame({c.name: checked[c.name].reference for c in measured})
        scores = _run([preset], measured, current, ref, main_html)
    results = []
    for c in columns:
        s, issue, note = scores.get(c.name), checked[c.name].issue, checked[c.name].note
        results.append(ColumnDrift(c.name, c.kind, s.method, s.threshold, s.score, s.drifted, issue, note) if s
                       else ColumnDrift(c.name, c.kind, c.method, c.threshold, None, False, issue, note))
    results.append(_target_drift(config, data.labelled, reference.data, report_dir / "target.html"))
    features = [r for r in results if r.kind in ("numeric", "categorical") and r.score is not None]
    share = sum(r.drifted for r in features) / len(features) if features else 0.0
    return DriftSummary(columns=results, drift_share=share,
                        performance=_performance(config, data.labelled, reference.performance),
                        report_path=str(main_html) if measured else None)
