"""The label-free performance estimate (CBPE) of a binary classifier, and when it may be trusted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.config import ModelConfig
from tasks.metrics import score
from tasks.monitor.decide import decide_verdict
from tasks.monitor.estimate import calibration_error, estimate_performance, expected_metric, with_estimate
from tasks.monitor.performance import measure_performance
from tasks.results import DriftSummary, PerformanceSummary, ValidationSummary


def config(*, task: str = "classification", metric: str = "roc_auc", estimate: str = "breach") -> ModelConfig:
    return ModelConfig.model_validate({
        "name": "m", "task": task,
        "source": {"table": "log", "timestamp": "ts", "id": "id"},
        "columns": {"numeric": ["x"], "prediction": "p", "target": {"column": "y"}},
        "schedule": {"cron": "0 6 * * 1", "window": "7d"},
        "validation": {"suite": "m"},
        "performance": {"metric": metric, "max_drop": "2sd", "estimate": estimate},
        "retraining": {"trainer": "tasks.retrain.trainers:gradient_boosting", "train_window": "60d"},
    })


def scored(rows: int, seed: int, *, signal: float = 1.5, bend: float = 1.0) -> pd.DataFrame:
    """A classifier's log; labels follow p**bend, so bend 1 is calibrated and bend 3 overconfident."""
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(0, signal, rows)))
    return pd.DataFrame({"p": p, "y": (rng.random(rows) < p ** bend).astype(int)})


@pytest.mark.parametrize("metric", ["accuracy", "roc_auc", "f1", "log_loss"])
def test_the_estimate_is_the_metric_expected_from_calibrated_probabilities(metric: str) -> None:
    """For labels drawn from the probabilities, the estimate equals the average metric over 300 draws of the
    labels (within 0.005): what a window of a calibrated model will score once its labels arrive."""
    rng = np.random.default_rng(0)
    p = 1 / (1 + np.exp(-rng.normal(0, 1.5, 3000)))
    draws = [score(metric, (rng.random(len(p)) < p).astype(float), p) for _ in range(300)]
    assert expected_metric(metric, p) == pytest.approx(np.mean(draws), abs=0.005)


def test_tied_scores_count_half_in_the_expected_auc() -> None:
    """Rounded probabilities (many ties) still give the mean AUC of labels drawn from them."""
    rng = np.random.default_rng(1)
    p = np.round(rng.uniform(0.05, 0.95, 2000), 1)
    draws = [score("roc_auc", (rng.random(len(p)) < p).astype(float), p) for _ in range(300)]
    assert expected_metric("roc_auc", p) == pytest.approx(np.mean(draws), abs=0.005)


def test_the_estimate_falls_when_the_model_grows_unsure() -> None:
    """Probabilities pulled towards 0.5 (the model no longer separates the classes) give a lower estimate,
    before any label arrives."""
    sure, unsure = scored(3000, seed=2, signal=2.0), scored(3000, seed=2, signal=0.5)
    assert expected_metric("roc_auc", unsure["p"].to_numpy()) < expected_metric("roc_auc", sure["p"].to_numpy()) - 0.1


def test_calibration_error_is_small_for_calibrated_and_large_for_bent_probabilities() -> None:
    calibrated, bent = scored(20_000, seed=3), scored(20_000, seed=3, bend=3.0)
    assert calibration_error(calibrated["y"].to_numpy(), calibrated["p"].to_numpy()) < 0.02
    assert calibration_error(bent["y"].to_numpy(), bent["p"].to_numpy()) > 0.1


def test_a_calibrated_reference_makes_the_estimate_trusted_and_says_so() -> None:
    """The method text names CBPE, the rows, the reference's calibration error and the estimate there
    against the metric actually measured."""
    estimate = estimate_performance(config(), scored(2000, seed=4), scored(5000, seed=5))
    assert estimate.trusted is True
    assert estimate.value is not None
    assert estimate.method.startswith("CBPE: expected roc_auc from the probabilities of 2,000 rows; calibration "
                                      "error ")
    assert "on 5,000 labelled reference rows; there the estimate reads " in estimate.method


def test_an_uncalibrated_reference_makes_the_estimate_untrusted() -> None:
    """Overconfident probabilities (labels follow p cubed) give an estimate marked not trusted, with why."""
    estimate = estimate_performance(config(), scored(2000, seed=6), scored(5000, seed=7, bend=3.0))
    assert estimate.trusted is False
    assert "; not trusted: calibration error " in estimate.method
    assert estimate.method.endswith(", more than 0.05")


@pytest.mark.parametrize(("reference", "reason"), [
    (None, "not trusted: the reference has no labelled rows to check calibration on"),
    (pd.DataFrame({"p": [0.2, 0.8], "y": [0, 1]}), "not trusted: calibration checked on only 2 labelled "
                                                   "reference rows (needs 200)"),
])
def test_without_enough_labelled_reference_rows_the_estimate_is_not_trusted(reference: pd.DataFrame | None,
                                                                           reason: str) -> None:
    estimate = estimate_performance(config(), scored(1000, seed=8), reference)
    assert estimate.trusted is False
    assert estimate.method.endswith(reason)


@pytest.mark.parametrize(("task", "metric", "starts"), [
    ("regression", "rmse", "no label-free estimate for a regression model"),
    ("multiclass", "accuracy", "no label-free estimate for a multiclass model"),
])
def test_models_without_probabilities_of_a_binary_label_get_no_estimate(task: str, metric: str,
                                                                        starts: str) -> None:
    """Regression (a point prediction has no distribution of the label) and multiclass get no estimate and
    say so."""
    estimate = estimate_performance(config(task=task, metric=metric, estimate="off"), scored(500, seed=9), None)
    assert (estimate.value, estimate.trusted) == (None, False)
    assert estimate.method.startswith(starts)


def test_a_prediction_that_is_not_a_probability_gets_no_estimate() -> None:
    current = pd.DataFrame({"p": [0.2, 3.5, 0.9]})
    estimate = estimate_performance(config(), current, scored(500, seed=10))
    assert estimate.value is None
    assert estimate.method == "no label-free estimate: p is not a probability (values from 0.2 to 3.5)"


def test_with_estimate_fills_the_summary_only_when_asked() -> None:
    base = PerformanceSummary("roc_auc", None, 0.8, 0)
    current, reference = scored(2000, seed=11), scored(5000, seed=12)
    assert with_estimate(base, config(estimate="off"), current, reference) == base
    filled = with_estimate(base, config(estimate="warn"), current, reference)
    assert filled.estimated_value == pytest.approx(expected_metric("roc_auc", current["p"].to_numpy()))
    assert filled.estimate_trusted is True
    assert filled.estimated_method is not None and filled.estimated_method.startswith("CBPE")


def test_an_estimated_collapse_breaches_before_the_labels_arrive() -> None:
    """End to end without labels: a calibrated reference, a current window whose model grew unsure, and
    estimate: breach make a breach whose reason names the estimate; the same window with a miscalibrated
    reference only warns."""
    cfg = config()
    reference = scored(8000, seed=13, signal=2.0)
    chunks = [score("roc_auc", reference["y"][k::8], reference["p"][k::8]) for k in range(8)]
    value = score("roc_auc", reference["y"], reference["p"])
    current = scored(2000, seed=14, signal=0.6)
    summary = measure_performance(cfg, current.iloc[:0], value, [c for c in chunks if c is not None], seed=0)
    drift = DriftSummary(columns=[], drift_share=0.0, performance=with_estimate(summary, cfg, current, reference))
    verdict = decide_verdict.fn(config=cfg, row_count=2000, validation=ValidationSummary("m", []), drift=drift,
                                history=[True, None])
    assert verdict.breach is True
    assert verdict.status == "drift"
    assert verdict.reasons[0].startswith("estimated concept drift: roc_auc estimated ")
    bent = scored(8000, seed=15, signal=2.0, bend=3.0)
    untrusted = DriftSummary(columns=[], drift_share=0.0, performance=with_estimate(summary, cfg, current, bent))
    verdict = decide_verdict.fn(config=cfg, row_count=2000, validation=ValidationSummary("m", []),
                                drift=untrusted, history=[True, None])
    assert verdict.breach is False
    assert any("not calibrated enough to trust" in r for r in verdict.reasons)
