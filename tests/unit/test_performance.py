"""A window's performance with its bootstrap interval and allowance (seeded data, loose statistical bounds)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

from tasks.config import ModelConfig
from tasks.config.types import parse_allowance
from tasks.errors import DataError
from tasks.metrics import binary_target, roc_auc, score
from tasks.monitor.performance import (
    bootstrap_interval,
    measure_performance,
    performance_by_chunk,
    resolve_allowance,
    scorable,
)

WEEK = timedelta(days=7)


def config(*, task: str = "classification", metric: str = "roc_auc", max_drop: Any = "2sd",
           min_labelled_rows: int = 200, positive: Any = None, probabilities: dict[str, str] | None = None,
           confidence: float = 0.95, chunks: str = "time") -> ModelConfig:
    target: dict[str, Any] = {"column": "y"}
    if positive is not None:
        target["positive"] = positive
    return ModelConfig.model_validate({
        "name": "m", "task": task,
        "source": {"table": "log", "timestamp": "ts", "id": "id"},
        "columns": {"numeric": ["x"], "prediction": "p", "target": target,
                    "probabilities": probabilities or {}},
        "schedule": {"cron": "0 6 * * 1", "window": "7d"},
        "validation": {"suite": "m"},
        "drift": {"calibration": {"chunks": chunks}},
        "performance": {"metric": metric, "max_drop": max_drop, "min_labelled_rows": min_labelled_rows,
                        "confidence": confidence},
        "retraining": {"trainer": "tasks.retrain.trainers:gradient_boosting", "train_window": "60d"},
    })


def binary(rows: int, seed: int, *, signal: float = 1.5) -> pd.DataFrame:
    """A classifier's log: a calibrated P(positive) and labels drawn from it."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(0, signal, rows)
    p = 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"p": p, "y": (rng.random(rows) < p).astype(int), "x": logit})


# --- the bootstrap interval ------------------------------------------------------------------------------

def test_the_interval_holds_the_value_and_is_the_same_for_the_same_seed() -> None:
    """The interval brackets the window's metric and is reproducible given the seed (replays agree)."""
    data = binary(800, seed=1)
    first = measure_performance(config(), data, 0.8, None, seed=7)
    again = measure_performance(config(), data, 0.8, None, seed=7)
    other = measure_performance(config(), data, 0.8, None, seed=8)
    assert first.value == pytest.approx(roc_auc_score(data["y"], data["p"]))
    assert first.ci_low is not None and first.ci_high is not None
    assert first.ci_low < first.value < first.ci_high
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)


def test_the_95_percent_interval_covers_the_true_accuracy_about_95_percent_of_the_time() -> None:
    """Over 120 windows of 400 rows whose true accuracy is 0.8, the 95% interval holds 0.8 in 88-99% of them."""
    rng = np.random.default_rng(0)
    covered = 0
    for trial in range(120):
        y = rng.integers(0, 2, 400)
        right = rng.random(400) < 0.8
        p = np.where(right == (y == 1), 0.9, 0.1)
        summary = measure_performance(config(metric="accuracy"), pd.DataFrame({"y": y, "p": p}), 0.8, None,
                                      seed=trial)
        assert summary.ci_low is not None and summary.ci_high is not None
        covered += summary.ci_low <= 0.8 <= summary.ci_high
    assert 0.88 <= covered / 120 <= 0.99


def test_a_large_window_has_the_width_theory_says() -> None:
    """100k labelled rows: the interval's width matches the binomial one (2 x 1.96 x sqrt(a(1 - a) / n))
    within 15 %."""
    rows = 100_000
    data = binary(rows, seed=2)
    summary = measure_performance(config(metric="accuracy"), data, 0.8, None, seed=0)
    assert summary.value is not None and summary.ci_low is not None and summary.ci_high is not None
    expected = 2 * 1.96 * math.sqrt(summary.value * (1 - summary.value) / rows)
    assert (summary.ci_high - summary.ci_low) == pytest.approx(expected, rel=0.15)


@pytest.mark.parametrize("seed", range(4))
def test_roc_auc_equals_scikit_learn_with_ties_and_any_two_labels(seed: int) -> None:
    """Counted pairs equal scikit-learn's integrated curve: rounded scores (many ties), labels 0/1, -1/1, 2/5."""
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(50, 20_000))
    y = (rng.random(rows) < rng.uniform(0.05, 0.6)).astype(float)
    p = np.round(rng.random(rows) * 0.6 + y * rng.uniform(0, 0.4), int(rng.integers(1, 4)))
    for low, high in ((0, 1), (-1, 1), (2, 5)):
        labels = np.where(y == 1, high, low).astype(float)
        assert roc_auc(labels, p) == pytest.approx(roc_auc_score(labels, p), abs=1e-12)
        assert score("roc_auc", labels, p) == pytest.approx(roc_auc_score(labels, p), abs=1e-12)
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(y, np.where(np.arange(rows) == 0, np.nan, p))


@pytest.mark.parametrize(("target", "positive"), [
    ([0, 1, 1, 0], None), ([0.0, 1.0, 1.0, 0.0], None), ([False, True, True, False], None),
    (["0", "1", "1", "0"], None), (["False", "True", "true", "false"], None), (["no", "yes", "yes", "no"], "yes"),
    ([3, 7, 7, 3], 7), ([3.0, 7.0, 7.0, 3.0], "7"),
])
def test_binary_labels_are_read_the_same_whatever_their_type(target: list[Any], positive: Any) -> None:
    assert binary_target(pd.Series(target * 50), positive, "columns.target").tolist() == [0.0, 1.0, 1.0, 0.0] * 50


def test_the_interval_narrows_with_more_rows() -> None:
    """Four times the rows, about half the width (the 1/sqrt(n) the subsampled bootstrap relies on)."""
    small = measure_performance(config(), binary(1_500, seed=3), None, None, seed=0)
    large = measure_performance(config(), binary(6_000, seed=3), None, None, seed=0)
    assert small.ci_low is not None and small.ci_high is not None
    assert large.ci_low is not None and large.ci_high is not None
    ratio = (small.ci_high - small.ci_low) / (large.ci_high - large.ci_low)
    assert 1.6 < ratio < 2.5


def test_an_undefined_metric_has_no_interval() -> None:
    """roc_auc on one class only is undefined: no value, no interval, nothing to crash on."""
    weighted = scorable(config(min_labelled_rows=1), pd.DataFrame({"y": [1] * 50, "p": np.linspace(0, 1, 50)}))
    assert weighted.value is None
    assert weighted.weighted is not None
    assert bootstrap_interval(weighted.weighted, 50, 0.5, confidence=0.95) == (None, None)


def test_an_error_metric_has_its_interval_in_its_own_units() -> None:
    """rmse of a regression model: the interval brackets the value (lower is better)."""
    rng = np.random.default_rng(4)
    y = rng.normal(10, 3, 1000)
    data = pd.DataFrame({"y": y, "p": y + rng.normal(0, 2, 1000)})
    summary = measure_performance(config(task="regression", metric="rmse", max_drop=0.5), data, 2.0, None, seed=0)
    assert summary.higher_is_better is False
    assert summary.ci_low is not None and summary.ci_high is not None
    assert summary.ci_low < summary.value < summary.ci_high  # type: ignore[operator]
    assert summary.ci_low > 1.8 and summary.ci_high < 2.2


# --- labelled rows ------------------------------------------------------------------------------------------

def test_fewer_labelled_rows_than_the_minimum_give_no_value_but_an_allowance() -> None:
    """Below min_labelled_rows the metric is not computed (too noisy to judge); rows without a label or
    prediction do not count; the allowance is still resolved."""
    data = binary(300, seed=5)
    data.loc[:150, "y"] = np.nan
    summary = measure_performance(config(max_drop="5%"), data, 0.8, None, seed=0)
    assert summary.labelled_rows == 149
    assert summary.value is None and summary.ci_low is None
    assert summary.allowance == pytest.approx(0.04)


def test_a_named_positive_label_scores_like_zero_one() -> None:
    """A target of 'late'/'on time' with positive: late scores exactly as the same target coded 1/0."""
    data = binary(500, seed=6)
    named = data.assign(y=np.where(data["y"] == 1, "late", "on time"))
    coded = measure_performance(config(), data, None, None, seed=0)
    words = measure_performance(config(positive="late"), named, None, None, seed=0)
    assert words.value == coded.value
    assert (words.ci_low, words.ci_high) == (coded.ci_low, coded.ci_high)


@pytest.mark.parametrize(("labels", "positive", "message"), [
    (["late", "on time"], None, "columns.target (column 'y'): a binary classifier's target should hold 0/1 "
                                "labels, found late, on time; name the positive label in columns.target.positive"),
    (["a", "b", "c"], None, "use task: multiclass"),
    (["a", "b", "c"], "a", "holds 3 labels (a, b, c); use task: multiclass"),
])
def test_a_target_that_does_not_fit_a_binary_classifier_is_a_clear_data_error(labels: list[str], positive: Any,
                                                                              message: str) -> None:
    """Labels that are not 0/1 without a positive label, or more than two labels, raise DataError naming
    the field (the monitor records the window as data-invalid with this message)."""
    data = binary(300, seed=7).assign(y=np.resize(labels, 300))
    with pytest.raises(DataError, match=r"columns\.target") as raised:
        measure_performance(config(positive=positive), data, None, None, seed=0)
    assert message in str(raised.value)


def test_a_prediction_that_is_not_a_number_is_a_clear_data_error() -> None:
    data = binary(300, seed=8).assign(p="high")
    with pytest.raises(DataError, match=r"columns.prediction \(column 'p'\) should hold P\(positive\)"):
        measure_performance(config(), data, None, None, seed=0)


# --- multiclass ---------------------------------------------------------------------------------------------

def multiclass(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet([2, 2, 2], rows)
    y = np.array([rng.choice(["cat", "dog", "owl"], p=row) for row in probs])
    predicted = np.array(["cat", "dog", "owl"])[probs.argmax(axis=1)]
    return pd.DataFrame({"y": y, "p": predicted, "p_cat": probs[:, 0], "p_dog": probs[:, 1], "p_owl": probs[:, 2]})


PROBABILITIES = {"cat": "p_cat", "dog": "p_dog", "owl": "p_owl"}


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1", "log_loss"])
def test_multiclass_metrics_match_scikit_learn(metric: str) -> None:
    """Accuracy and macro-F1 from the predicted label, log-loss from the class probability columns, each
    equal to scikit-learn's, with an interval around it."""
    data = multiclass(600, seed=9)
    summary = measure_performance(config(task="multiclass", metric=metric, probabilities=PROBABILITIES), data,
                                  None, None, seed=0)
    expected = {"accuracy": lambda: accuracy_score(data["y"], data["p"]),
                "macro_f1": lambda: f1_score(data["y"], data["p"], average="macro"),
                "log_loss": lambda: log_loss(data["y"], data[list(PROBABILITIES.values())],
                                             labels=list(PROBABILITIES))}[metric]()
    assert summary.value == pytest.approx(expected, abs=1e-9)
    assert summary.ci_low is not None and summary.ci_high is not None
    assert summary.ci_low < summary.value < summary.ci_high  # type: ignore[operator]


def test_a_multiclass_label_without_a_probability_column_is_a_clear_data_error() -> None:
    data = multiclass(300, seed=10)
    data.loc[0, "y"] = "eel"
    with pytest.raises(DataError, match=r"target labels eel have no column in columns\.probabilities"):
        measure_performance(config(task="multiclass", metric="log_loss", probabilities=PROBABILITIES), data,
                            None, None, seed=0)


# --- the allowance ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("max_drop", "chunks", "allowance", "source"), [
    ("2sd", [0.70, 0.72, 0.71, 0.73, 0.69], 2 * np.std([0.70, 0.72, 0.71, 0.73, 0.69], ddof=1),
     "2sd: twice the spread (0.016) of 5 reference chunks"),
    ("1sd", [0.70, 0.72, 0.71, 0.73, 0.69], np.std([0.70, 0.72, 0.71, 0.73, 0.69], ddof=1),
     "1sd: the spread (0.016) of 5 reference chunks"),
    ("3sd", [0.70, 0.72], 3 * np.std([0.70, 0.72], ddof=1), "3sd: 3 times the spread (0.014) of 2 reference chunks"),
    ("5%", None, 0.0355, "5% of the reference 0.71"),
    (0.05, None, 0.05, "fixed in performance.max_drop"),
    ("2sd", [0.7], 0.0355, "5% of the reference 0.71 (2sd needs the spread of at least 2 reference chunks "
                           "with enough labelled rows; 1 found)"),
])
def test_the_allowance_says_where_it_comes_from(max_drop: Any, chunks: list[float] | None, allowance: float,
                                                source: str) -> None:
    """A spread allowance is k standard deviations of the reference's chunk values, a relative one a share of
    the reference value; with fewer than two chunks a spread allowance falls back to 5 % and says why."""
    resolved, said = resolve_allowance(parse_allowance(max_drop), 0.71, chunks)
    assert resolved == pytest.approx(allowance)
    assert said == source


def test_a_spread_allowance_survives_a_promotion() -> None:
    """Two champions with different baselines but the same chunk spread get the same allowance in metric
    units: the allowance follows the model's own noise, not its level."""
    old, _ = resolve_allowance(parse_allowance("2sd"), 0.62, [0.60, 0.62, 0.64])
    new, _ = resolve_allowance(parse_allowance("2sd"), 0.81, [0.79, 0.81, 0.83])
    assert old == pytest.approx(new)


# --- the reference's chunks ---------------------------------------------------------------------------------

def test_performance_by_chunk_scores_each_window_sized_chunk_of_the_reference() -> None:
    """Ten weeks of reference give ten weekly values, each the metric of that week's labelled rows; a week
    with fewer labelled rows than the minimum is skipped."""
    data = binary(10 * 700, seed=11)
    start = datetime(2024, 1, 1)
    data["ts"] = start + pd.to_timedelta(np.linspace(0, 10 * 7 * 86400 - 1, len(data)), unit="s")
    data.loc[data["ts"] < start + WEEK, "y"] = np.where(np.arange(700) < 100, 1, np.nan)[:700]
    values = performance_by_chunk(config(), data, window=WEEK, timestamp="ts", start=start,
                                  end=start + 10 * WEEK)
    assert len(values) == 9
    second = data[(data["ts"] >= start + WEEK) & (data["ts"] < start + 2 * WEEK)]
    assert values[0] == pytest.approx(score("roc_auc", second["y"], second["p"]))
    assert 0.005 < float(np.std(values, ddof=1)) < 0.05


def test_performance_by_chunk_by_rows() -> None:
    """With row chunks, each chunk is window_rows rows counted back from the newest."""
    data = binary(2_100, seed=12)
    data["ts"] = pd.date_range("2024-01-01", periods=len(data), freq="min")
    values = performance_by_chunk(config(chunks="rows"), data, window=None, timestamp="ts", window_rows=500)
    assert len(values) == 4
    assert values[-1] == pytest.approx(score("roc_auc", data["y"].iloc[-500:], data["p"].iloc[-500:]))
