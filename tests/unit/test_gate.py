"""The promotion gate with confidence: a pure function of two models' predictions on the same holdout rows."""

from __future__ import annotations

import numpy as np
import pytest

import tasks.retrain.gate as gate_module
from tasks.config import PromotionGate
from tasks.metrics import score
from tasks.retrain.gate import WEIGHTED, HoldoutScores, decide_promotion, probability_better

GATE = PromotionGate(min_gain=0.0, confidence=0.9, min_holdout_rows=200, resamples=500)


def classifier_rows(n: int, *, seed: int = 0, noise_a: float = 1.0, noise_b: float = 1.0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A binary target and two probability-like predictions; less noise is a better model."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    y = (signal + rng.normal(size=n) > 0).astype(float)
    a = 1 / (1 + np.exp(-(signal + noise_a * rng.normal(size=n))))
    b = 1 / (1 + np.exp(-(signal + noise_b * rng.normal(size=n))))
    return y, a, b


def holdout(y: np.ndarray, challenger: np.ndarray | None, champion: np.ndarray | None, *, metric: str = "roc_auc",
            version: int | None = 1, note: str | None = None) -> HoldoutScores:
    return HoldoutScores(metric, y, challenger, champion, version, "champion v1", note)


@pytest.mark.parametrize("metric", sorted(WEIGHTED))
def test_weighted_metrics_equal_the_metric_on_the_resampled_rows(metric: str) -> None:
    """Bootstrap weights give exactly the score of the resampled rows (ties in the scores included)."""
    rng = np.random.default_rng(3)
    y, p, _ = classifier_rows(300, seed=3)
    if metric in ("rmse", "mae", "r2"):
        y, p = rng.normal(size=300), rng.normal(size=300)
    p = np.round(p, 2)  # many tied scores
    index = rng.integers(0, 300, size=(4, 300))
    weights = np.stack([np.bincount(i, minlength=300) for i in index]).astype(float)
    vectorised = WEIGHTED[metric](y, p, weights)
    for row, i in enumerate(index):
        assert vectorised[row] == pytest.approx(score(metric, y[i], p[i]), abs=1e-9)


def test_a_clearly_better_challenger_is_promoted_with_its_probability_in_the_reason() -> None:
    """A challenger with far less noise wins nearly every resample and is promoted; the reason shows the numbers."""
    y, better, worse = classifier_rows(3000, noise_a=0.3, noise_b=1.5)
    decision = decide_promotion(holdout(y, better, worse), GATE)
    assert decision.promote
    assert decision.probability is not None and decision.probability >= 0.99
    assert decision.gain is not None and decision.gain > 0.05
    assert decision.reason.startswith("promoted: gain +")
    assert "≥ confidence 0.9" in decision.reason and "3000 holdout rows" in decision.reason
    assert f"{decision.challenger_score:.4f}" in decision.reason


def test_a_small_win_on_noise_is_not_promoted() -> None:
    """Two equally good models: the one that happens to score higher on a small holdout is not confidently better."""
    for seed in range(5):
        y, a, b = classifier_rows(400, seed=seed)
        decision = decide_promotion(holdout(y, a, b), GATE)
        if decision.gain is not None and decision.gain > 0:
            assert not decision.promote
            assert decision.probability is not None and decision.probability < 0.9
            assert "< confidence 0.9" in decision.reason
            return
    pytest.fail("no seed gave the challenger a small win")


def test_a_tie_keeps_the_champion() -> None:
    """Identical predictions: no gain, and the champion stays."""
    y, a, _ = classifier_rows(1000)
    decision = decide_promotion(holdout(y, a, a.copy()), GATE)
    assert not decision.promote
    assert decision.reason.startswith("rejected: gain +0.0000 does not exceed min_gain 0")
    assert probability_better("roc_auc", y, a, a, min_gain=0.0, resamples=200) == 0.0


def test_the_gain_must_exceed_min_gain() -> None:
    """A confident but small gain below min_gain keeps the champion."""
    y, better, worse = classifier_rows(3000, noise_a=0.9, noise_b=1.0)
    decision = decide_promotion(holdout(y, better, worse), PromotionGate(min_gain=0.5, resamples=200))
    assert not decision.promote
    assert "does not exceed min_gain 0.5" in decision.reason


def test_a_larger_min_gain_lowers_the_probability() -> None:
    y, a, b = classifier_rows(2000, noise_a=0.7, noise_b=1.0)
    chances = [probability_better("roc_auc", y, a, b, min_gain=g, resamples=300) for g in (0.0, 0.01, 0.02, 0.05)]
    assert chances == sorted(chances, reverse=True)
    assert chances[0] > chances[-1]


def test_too_small_a_holdout_is_refused_whatever_the_gain() -> None:
    y, better, worse = classifier_rows(150, noise_a=0.1, noise_b=2.0)
    decision = decide_promotion(holdout(y, better, worse), GATE)
    assert not decision.promote
    assert "only 150 holdout rows, fewer than min_holdout_rows 200" in decision.reason


def test_the_decision_is_seeded() -> None:
    """The same holdout gives the same probability every time (no wall clock, no global random state)."""
    y, a, b = classifier_rows(800, noise_a=0.9, noise_b=1.0)
    first = decide_promotion(holdout(y, a, b), GATE)
    np.random.seed(99)
    assert decide_promotion(holdout(y, a, b), GATE) == first


def test_resamples_in_chunks_give_the_same_probability(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large holdouts are resampled in chunks to bound memory; the answer does not depend on the chunk size."""
    y, a, b = classifier_rows(500, noise_a=0.9, noise_b=1.0)
    whole = probability_better("roc_auc", y, a, b, min_gain=0.0, resamples=300)
    monkeypatch.setattr(gate_module, "MAX_CELLS", 500 * 7)
    assert probability_better("roc_auc", y, a, b, min_gain=0.0, resamples=300) == whole


def test_for_an_error_metric_lower_is_better() -> None:
    """rmse: the challenger with the smaller error is the better one."""
    rng = np.random.default_rng(1)
    y = rng.normal(size=2000)
    close, far = y + rng.normal(0, 0.2, 2000), y + rng.normal(0, 1.0, 2000)
    assert decide_promotion(holdout(y, close, far, metric="rmse"), GATE).promote
    worse = decide_promotion(holdout(y, far, close, metric="rmse"), GATE)
    assert not worse.promote and worse.gain is not None and worse.gain < 0


def test_a_metric_without_weights_is_bootstrapped_row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any metric the gate has no vectorised form for is still bootstrapped, with the same answer."""
    y, a, b = classifier_rows(300, noise_a=0.5, noise_b=1.0)
    vectorised = probability_better("accuracy", y, a, b, min_gain=0.0, resamples=100)
    monkeypatch.delitem(WEIGHTED, "accuracy")
    assert probability_better("accuracy", y, a, b, min_gain=0.0, resamples=100) == vectorised


def test_an_unscorable_challenger_is_rejected() -> None:
    y, a, _ = classifier_rows(500)
    assert not decide_promotion(holdout(y, None, a), GATE).promote


def test_without_any_champion_or_logged_predictions_the_challenger_is_promoted() -> None:
    """Nothing registered and nothing logged: the first model is promoted (if the holdout is big enough)."""
    y, a, _ = classifier_rows(500)
    decision = decide_promotion(holdout(y, a, None, version=None), GATE)
    assert decision.promote
    assert "no champion to beat" in decision.reason


def test_a_champion_that_cannot_be_scored_stays() -> None:
    """A registered champion that cannot be scored on the holdout is never replaced blindly."""
    y, a, _ = classifier_rows(500)
    decision = decide_promotion(holdout(y, a, None, version=3, note="no logged predictions on these rows"), GATE)
    assert not decision.promote
    assert "the champion v3 could not be scored on the holdout: no logged predictions on these rows" in decision.reason


def test_a_holdout_with_one_class_cannot_promote() -> None:
    y = np.ones(400)
    a, b = np.linspace(0, 1, 400), np.linspace(1, 0, 400)
    decision = decide_promotion(holdout(y, a, b), GATE)
    assert not decision.promote
    assert "could not be scored" in decision.reason
