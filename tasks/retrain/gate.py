"""The promotion gate: a challenger replaces the champion only when it is better with stated confidence.

Both models are scored on the same holdout rows. A paired bootstrap resamples those rows (seeded, so the same
holdout always gives the same decision) and scores both models on each resample; the share of resamples in
which the challenger beats the champion by more than `min_gain` estimates P(challenger better by > min_gain).
The challenger is promoted only when that probability reaches `confidence`, the holdout has at least
`min_holdout_rows` rows, and its observed gain exceeds `min_gain`: a tie keeps the champion.

Everything here is pure (numpy only): the retrain flow and the rollback watch feed it arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tasks.config import PromotionGate
from tasks.metrics import HIGHER_IS_BETTER, score

SEED = 20131  # fixed: the same holdout always gives the same decision
MAX_CELLS = 4_000_000  # resamples x rows held in memory at once


@dataclass(frozen=True)
class HoldoutScores:
    """Champion and challenger predictions on the same holdout rows.

    `champion` is None when there is nothing to compare with; `champion_version` then says whether a champion
    exists (it could not be scored) or not (the first model of a model with no log of predictions).
    """

    metric: str
    target: np.ndarray
    challenger: np.ndarray | None
    champion: np.ndarray | None
    champion_version: int | None = None
    champion_source: str = "champion"  # how its predictions were obtained: "v3", "logged predictions of v1"
    note: str | None = None  # why the champion could not be scored, when it could not

    @property
    def rows(self) -> int:
        return len(self.target)


@dataclass(frozen=True)
class PromotionDecision:
    """The gate's answer with the numbers behind it."""

    promote: bool
    reason: str
    holdout_rows: int = 0
    challenger_score: float | None = None
    champion_score: float | None = None
    gain: float | None = None  # how much better the challenger scored (positive = better), either direction
    probability: float | None = None  # P(challenger better by more than min_gain), paired bootstrap


def oriented_gain(metric: str, challenger: float | None, champion: float | None) -> float | None:
    """challenger - champion for a higher-is-better metric, champion - challenger for an error metric."""
    if challenger is None or champion is None:
        return None
    gap = challenger - champion
    return gap if HIGHER_IS_BETTER[metric] else -gap


def probability_better(metric: str, target: np.ndarray, challenger: np.ndarray, champion: np.ndarray, *,
                       min_gain: float, resamples: int, seed: int = SEED) -> float | None:
    """P(challenger better than champion by more than `min_gain`) by a paired bootstrap of the rows.

    Each resample draws the rows with replacement once and scores both models on that same draw. Resamples on
    which the metric is undefined (e.g. one class only, for roc_auc) are left out; None if all are.
    """
    y = np.asarray(target, dtype=float)
    a = np.asarray(challenger, dtype=float)
    b = np.asarray(champion, dtype=float)
    n = len(y)
    if n == 0:
        return None
    rng = np.random.default_rng(seed)
    weighted = WEIGHTED.get(metric)
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    gains: list[np.ndarray] = []
    per_chunk = max(1, min(resamples, MAX_CELLS // n))
    done = 0
    while done < resamples:
        size = min(per_chunk, resamples - done)
        index = rng.integers(0, n, size=(size, n))
        if weighted is not None:
            counts = np.bincount((index + n * np.arange(size)[:, None]).ravel(), minlength=size * n)
            weights = counts.reshape(size, n).astype(float)
            gains.append(sign * (weighted(y, a, weights) - weighted(y, b, weights)))
        else:  # any other metric: score each resample directly
            gains.append(np.array([_score_or_nan(metric, y[i], a[i]) - _score_or_nan(metric, y[i], b[i])
                                   for i in index]) * sign)
        done += size
    gain = np.concatenate(gains)
    valid = gain[~np.isnan(gain)]
    if len(valid) == 0:
        return None
    return float(np.mean(valid > min_gain))


def decide_promotion(scores: HoldoutScores, gate: PromotionGate, *, seed: int = SEED) -> PromotionDecision:
    """Promote the challenger only if it beats the champion on the same holdout with the gate's confidence."""
    metric, n = scores.metric, scores.rows
    challenger = None if scores.challenger is None else score(metric, scores.target, scores.challenger)
    champion = None if scores.champion is None else score(metric, scores.target, scores.champion)
    numbers = f"{metric} on {n} holdout rows: challenger {_num(challenger)}, {scores.champion_source} {_num(champion)}"

    def decision(promote: bool, why: str, probability: float | None = None) -> PromotionDecision:
        verb = "promoted" if promote else "rejected"
        return PromotionDecision(promote, f"{verb}: {why} ({numbers})", n, challenger, champion,
                                 oriented_gain(metric, challenger, champion), probability)

    if challenger is None:
        return decision(False, "the challenger could not be scored on the holdout")
    if n < gate.min_holdout_rows:
        return decision(False, f"only {n} holdout rows, fewer than min_holdout_rows {gate.min_holdout_rows}")
    if scores.champion is None:
        if scores.champion_version is None:
            return decision(True, "no champion to beat and no logged predictions to compare with")
        note = f": {scores.note}" if scores.note else ""
        return decision(False, f"the champion v{scores.champion_version} could not be scored on the holdout{note}; "
                               "it stays")
    if champion is None:
        return decision(False, f"{metric} of the champion is undefined on this holdout")
    gain = oriented_gain(metric, challenger, champion) or 0.0
    if gain <= gate.min_gain:
        return decision(False, f"gain {gain:+.4f} does not exceed min_gain {gate.min_gain:g}")
    probability = probability_better(metric, scores.target, scores.challenger,  # type: ignore[arg-type]
                                     scores.champion, min_gain=gate.min_gain, resamples=gate.resamples, seed=seed)
    if probability is None:
        return decision(False, f"{metric} is undefined on every bootstrap resample of the holdout")
    stated = (f"gain {gain:+.4f}; P(better by > {gate.min_gain:g}) = {probability:.3f} "
              f"over {gate.resamples} paired resamples")
    if probability >= gate.confidence:
        return decision(True, f"{stated} ≥ confidence {gate.confidence:g}", probability)
    return decision(False, f"{stated} < confidence {gate.confidence:g}", probability)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _score_or_nan(metric: str, y: np.ndarray, p: np.ndarray) -> float:
    value = score(metric, y, p)
    return np.nan if value is None else value


# Metrics as functions of per-row bootstrap weights (resamples x rows), vectorised over the resamples.
# Each equals tasks.metrics.score on the resampled rows (tested against it).

def _mean(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    return (weights @ values) / weights.sum(axis=1)


def _log_loss(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return _mean(w, -(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _accuracy(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _mean(w, ((p >= 0.5) == (y == 1)).astype(float))


def _f1(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    predicted, actual = (p >= 0.5).astype(float), (y == 1).astype(float)
    tp, fp, fn = w @ (predicted * actual), w @ (predicted * (1 - actual)), w @ ((1 - predicted) * actual)
    denominator = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), 0.0)


def _rmse(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.sqrt(_mean(w, (y - p) ** 2))


def _mae(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _mean(w, np.abs(y - p))


def _r2(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1)
    spread = w @ (y * y) - (w @ y) ** 2 / total
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread > 0, 1 - (w @ ((y - p) ** 2)) / np.where(spread > 0, spread, 1), np.nan)


def _roc_auc(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Mann-Whitney: pairs (positive, negative) ordered correctly, ties counting half."""
    order = np.argsort(p, kind="stable")
    sorted_p = p[order]
    starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])  # one group per distinct score
    positive = (y[order] == 1).astype(float)
    ws = w[:, order]
    pos = np.add.reduceat(ws * positive, starts, axis=1)
    neg = np.add.reduceat(ws * (1 - positive), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (pos * (below + 0.5 * neg)).sum(axis=1) / np.where(pairs > 0, pairs, 1), np.nan)


WEIGHTED: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "roc_auc": _roc_auc, "log_loss": _log_loss, "accuracy": _accuracy, "f1": _f1,
    "rmse": _rmse, "mae": _mae, "r2": _r2,
}
