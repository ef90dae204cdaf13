"""A label-free estimate of a binary classifier's performance on the current window (confidence-based, CBPE).

When labels lag, the current window has predictions but no labels yet. A calibrated classifier's
probabilities say how often it will be right: a row scored p is positive with probability p. The metric's
expected value over those Bernoulli labels is the estimate (the idea of NannyML's CBPE):

- accuracy: the mean of max(p, 1 - p) (a row is predicted positive from p >= 0.5);
- f1: from the expected true positives Σ p, false positives Σ (1 - p) above 0.5 and false negatives Σ p
  below it;
- log_loss: the mean binary entropy of p;
- roc_auc: expected correctly ordered (positive, negative) pairs over the expected number of such pairs.

It is only as good as the calibration, so the reference's labelled rows are checked first: the expected
calibration error over equal-count bins of p, and the estimate there against the metric actually measured.
Beyond MAX_CALIBRATION_ERROR the estimate is reported but marked untrusted, and never breaches.

Regression models get no estimate: a point prediction carries no distribution of the label to take an
expectation over, so nothing in the log says how wrong it will be (the configuration refuses `estimate`
for them; asked anyway, the method text says so). Multiclass models likewise get none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from tasks.config import ModelConfig
from tasks.metrics import PROBABILITY_FLOOR, binary_target, score
from tasks.results import PerformanceSummary

MAX_CALIBRATION_ERROR = 0.05  # mean |observed rate - mean p| over bins, weighted by rows
CALIBRATION_BINS = 10


def _num(value: float) -> str:
    text = f"{value + 0.0:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass(frozen=True)
class Estimate:
    value: float | None
    method: str  # what was estimated, how, and whether the calibration supports it
    trusted: bool


def expected_metric(metric: str, probabilities: np.ndarray) -> float | None:
    """The metric's expected value if each row's label were drawn as Bernoulli(p); None where undefined."""
    p = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    if len(p) == 0:
        return None
    above = p >= 0.5
    if metric == "accuracy":
        return float(np.mean(np.where(above, p, 1 - p)))
    if metric == "f1":
        tp, fp, fn = p[above].sum(), (1 - p[above]).sum(), p[~above].sum()
        return float(2 * tp / (2 * tp + fp + fn)) if 2 * tp + fp + fn > 0 else 0.0
    if metric == "log_loss":
        q = np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
        return float(np.mean(-(p * np.log(q) + (1 - p) * np.log(1 - q))))
    if metric == "roc_auc":
        return _expected_auc(p)
    return None


def _expected_auc(p: np.ndarray) -> float | None:
    """E[correctly ordered positive-negative pairs] / E[positive-negative pairs], ties counting half."""
    values, inverse = np.unique(p, return_inverse=True)
    positives = np.bincount(inverse, weights=p, minlength=len(values))  # expected positives per distinct score
    negatives = np.bincount(inverse, weights=1 - p, minlength=len(values))
    self_pairs = np.bincount(inverse, weights=p * (1 - p), minlength=len(values))  # a row is no pair with itself
    below = np.cumsum(negatives) - negatives
    ordered = float(np.sum(positives * below) + 0.5 * np.sum(positives * negatives - self_pairs))
    pairs = float(p.sum() * (1 - p).sum() - np.sum(p * (1 - p)))
    return ordered / pairs if pairs > 0 else None


def calibration_error(target: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error: |observed positive rate - mean p| over equal-count bins of p, row-weighted."""
    order = np.argsort(probabilities, kind="stable")
    error = 0.0
    for part in np.array_split(order, min(bins, len(order))):
        error += len(part) * abs(float(target[part].mean()) - float(probabilities[part].mean()))
    return error / len(order)


def estimate_performance(config: ModelConfig, current: pd.DataFrame, reference: pd.DataFrame | None) -> Estimate:
    """The label-free estimate of `performance.metric` on the current window, checked on the reference."""
    metric, cols = config.performance.metric, config.columns
    if config.task == "regression":
        return Estimate(None, "no label-free estimate for a regression model: a point prediction carries no "
                              "distribution of the label to estimate its error from", False)
    if config.task != "classification":
        return Estimate(None, f"no label-free estimate for a {config.task} model (binary classifiers only)", False)
    p = pd.to_numeric(current.get(cols.prediction, pd.Series(dtype=float)), errors="coerce").dropna().to_numpy()
    if len(p) == 0:
        return Estimate(None, f"no label-free estimate: the window has no {cols.prediction} values", False)
    if p.min() < 0 or p.max() > 1:
        return Estimate(None, f"no label-free estimate: {cols.prediction} is not a probability "
                              f"(values from {_num(p.min())} to {_num(p.max())})", False)
    value = expected_metric(metric, p)
    head = f"CBPE: expected {metric} from the probabilities of {len(p):,} rows"
    if value is None:
        return Estimate(None, f"{head} is undefined", False)
    check, trusted = _calibration_check(config, reference)
    return Estimate(value, f"{head}; {check}", trusted)


def _calibration_check(config: ModelConfig, reference: pd.DataFrame | None) -> tuple[str, bool]:
    """(what the reference says about the probabilities' calibration, whether that is good enough)."""
    metric, cols = config.performance.metric, config.columns
    target, prediction = cols.target.column, cols.prediction
    if reference is None or not {target, prediction} <= set(reference):
        return "not trusted: the reference has no labelled rows to check calibration on", False
    rows = reference.dropna(subset=[target, prediction])
    needed = config.performance.min_labelled_rows
    if len(rows) < needed:
        return (f"not trusted: calibration checked on only {len(rows):,} labelled reference rows "
                f"(needs {needed:,})"), False
    y = binary_target(rows[target], cols.target.positive, f"columns.target (column {target!r})")
    p = np.clip(pd.to_numeric(rows[prediction], errors="coerce").to_numpy(dtype=float), 0.0, 1.0)
    error = calibration_error(y, p)
    expected, actual = expected_metric(metric, p), score(metric, y, p)
    there = ("" if expected is None or actual is None else
             f"; there the estimate reads {_num(expected)} against the actual {_num(actual)}")
    stated = f"calibration error {_num(error)} on {len(rows):,} labelled reference rows{there}"
    if error > MAX_CALIBRATION_ERROR:
        return f"not trusted: {stated}, more than {_num(MAX_CALIBRATION_ERROR)}", False
    return stated, True


def with_estimate(summary: PerformanceSummary, config: ModelConfig, current: pd.DataFrame,
                  reference: pd.DataFrame | None) -> PerformanceSummary:
    """`summary` with the label-free estimate filled in (unchanged when `performance.estimate` is off)."""
    if config.performance.estimate == "off":
        return summary
    estimate = estimate_performance(config, current, reference)
    return replace(summary, estimated_value=estimate.value, estimated_method=estimate.method,
                   estimate_trusted=estimate.trusted)
