"""Performance metrics on a labelled window, which direction is better, and how labels are read.

Binary classifiers log P(positive) as their prediction; their target is 0/1 or names its positive label
(`columns.target.positive`). Multiclass models log the predicted label as their prediction and, for log-loss,
one probability column per class (`columns.probabilities`). Regression models log the predicted value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)

from tasks.errors import DataError

HIGHER_IS_BETTER = {"roc_auc": True, "accuracy": True, "f1": True, "r2": True, "macro_f1": True,
                    "log_loss": False, "rmse": False, "mae": False}
PROBABILITY_FLOOR = 1e-6  # log-loss clips probabilities here, so one confident mistake is large but finite


def score(metric: str, target: pd.Series | np.ndarray, prediction: pd.Series | np.ndarray) -> float | None:
    """The metric of `prediction` against `target`; None where it is undefined (e.g. one class only)."""
    y = np.asarray(target, dtype=float)
    p = np.asarray(prediction, dtype=float)
    if len(y) == 0:
        return None
    if metric in ("roc_auc", "log_loss") and y.min() == y.max():
        return None
    functions: dict[str, Callable[[], float]] = {
        "roc_auc": lambda: roc_auc(y, p),
        "log_loss": lambda: log_loss(y, np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR), labels=[0, 1]),
        "accuracy": lambda: accuracy_score(y, p >= 0.5),
        "f1": lambda: f1_score(y, p >= 0.5, zero_division=0),
        "rmse": lambda: root_mean_squared_error(y, p),
        "mae": lambda: mean_absolute_error(y, p),
        "r2": lambda: r2_score(y, p),
    }
    return float(functions[metric]())


def roc_auc(target: np.ndarray, prediction: np.ndarray) -> float:
    """The area under the ROC curve of a two-label target (the larger label positive): the share of (positive,
    negative) pairs the prediction orders correctly, ties counting one half, which is what scikit-learn's
    `roc_auc_score` integrates (equal to 1e-12). Counted with two sorts and binary searches: a tenth of its
    time on a million rows."""
    if not np.isfinite(prediction).all():
        raise ValueError("roc_auc: the prediction holds NaN or infinity")
    positive = target == target.max()
    negatives = np.sort(prediction[~positive])
    positives = np.sort(prediction[positive])
    below = np.searchsorted(negatives, positives, "left").sum()
    at_or_below = np.searchsorted(negatives, positives, "right").sum()
    return float((below + at_or_below) / 2 / (len(positives) * len(negatives)))


def labelled_predictions(data: pd.DataFrame, target: str, prediction: str) -> pd.DataFrame:
    """The rows that carry a label and a numeric prediction: what a logged model can be scored on."""
    if target not in data or prediction not in data:
        return data.iloc[0:0]
    return data[data[target].notna() & pd.to_numeric(data[prediction], errors="coerce").notna()]


def label_text(values: pd.Series) -> pd.Series:
    """Labels as text, so 1, 1.0 and '1' name the same class (YAML keys and SQL columns disagree on types).

    Each distinct label is converted once and the rows take theirs by code: a window of a million rows holds
    a handful of labels."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    if len(uniques) * 2 > len(values):
        return _label_text(values)
    text = _label_text(pd.Series(uniques, dtype=values.dtype)).to_numpy(dtype=object)
    return pd.Series(text[codes], index=values.index, dtype=object)


def _label_text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.map(lambda v: str(v).lower())
    if pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values)
        integral = numbers.notna() & (numbers == np.round(numbers))
        text = numbers.astype(str)
        text[integral] = numbers[integral].astype("int64").astype(str)
        return text
    return values.astype(str).map(lambda v: v.lower() if v in ("True", "False") else v)


def binary_target(target: pd.Series, positive: object, field: str) -> np.ndarray:
    """A binary classifier's labels as 0.0/1.0.

    With `positive` set, rows equal to it are 1 and all others 0, but only two distinct labels may occur;
    without it the labels must already be 0/1 (or booleans). Anything else raises DataError naming `field`.
    """
    codes, uniques = pd.factorize(target, use_na_sentinel=False)  # each distinct label read once, rows by code
    names = _label_text(pd.Series(uniques, dtype=target.dtype)).to_numpy(dtype=object)
    labels = sorted(set(names))
    if positive is not None:
        wanted = label_text(pd.Series([positive])).iloc[0]
        if len(labels) > 2:
            raise DataError(f"{field}: a binary classifier's target holds {len(labels)} labels "
                            f"({', '.join(labels[:5])}{', …' if len(labels) > 5 else ''}); use task: multiclass")
        return (names == wanted).astype(float)[codes]
    if not set(labels) <= {"0", "1", "true", "false"}:
        shown = ", ".join(labels[:5]) + (", …" if len(labels) > 5 else "")
        hint = "use task: multiclass" if len(labels) > 2 else "name the positive label in columns.target.positive"
        raise DataError(f"{field}: a binary classifier's target should hold 0/1 labels, found {shown}; {hint}")
    return np.isin(names, ["1", "true"]).astype(float)[codes]


def multiclass_codes(target: pd.Series, predicted: pd.Series | None, probabilities: Mapping[str, pd.Series],
                     field: str) -> tuple[list[str], np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(classes, target codes, predicted codes, probability matrix) of a multiclass window.

    The classes are those of `columns.probabilities` when given (a label outside them raises DataError
    naming `field`), else every label seen in the target or the prediction. Probability rows are normalised
    to sum to one.
    """
    y_text = label_text(target)
    p_text = None if predicted is None else label_text(predicted)
    if probabilities:
        classes = [str(c) for c in probabilities]
        unknown = sorted(set(y_text.unique()) - set(classes))
        if unknown:
            raise DataError(f"{field}: target labels {', '.join(unknown[:5])} have no column in "
                            "columns.probabilities")
    else:
        seen = set(y_text.unique()) | (set() if p_text is None else set(p_text.unique()))
        classes = sorted(seen)
    index = {c: k for k, c in enumerate(classes)}
    y = y_text.map(index).to_numpy(dtype=float)
    p = None if p_text is None else p_text.map(index).fillna(-1).to_numpy(dtype=float)
    matrix = None
    if probabilities:
        matrix = np.column_stack([pd.to_numeric(probabilities[c], errors="coerce").to_numpy(dtype=float)
                                  for c in probabilities])
        totals = matrix.sum(axis=1, keepdims=True)
        matrix = matrix / np.where(totals > 0, totals, 1.0)
    return classes, y, p, matrix


def multiclass_score(metric: str, y: np.ndarray, predicted: np.ndarray | None,
                     probabilities: np.ndarray | None) -> float | None:
    """accuracy, macro_f1 (over classes seen in target or prediction) or log_loss of coded multiclass rows."""
    if len(y) == 0:
        return None
    weighted = weighted_multiclass(metric, y, predicted, probabilities)
    value = float(weighted(np.ones((1, len(y))))[0])
    return None if np.isnan(value) else value


def weighted_multiclass(metric: str, y: np.ndarray, predicted: np.ndarray | None,
                        probabilities: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
    """The multiclass metric as a function of row weights (resamples x rows), vectorised over resamples."""
    if metric == "log_loss":
        if probabilities is None:
            raise DataError("performance.metric: log_loss needs columns.probabilities (a column per class)")
        chosen = probabilities[np.arange(len(y)), y.astype(int)]
        losses = -np.log(np.clip(np.nan_to_num(chosen, nan=0.0), PROBABILITY_FLOOR, 1.0))
        return lambda w: (w @ losses) / w.sum(axis=1)
    if predicted is None:
        if probabilities is None:
            raise DataError(f"performance.metric: {metric} needs a predicted label or columns.probabilities")
        predicted = np.argmax(np.nan_to_num(probabilities, nan=-1.0), axis=1).astype(float)
    if metric == "accuracy":
        correct = (predicted == y).astype(float)
        return lambda w: (w @ correct) / w.sum(axis=1)
    if metric != "macro_f1":
        raise DataError(f"performance.metric: {metric} is not a multiclass metric (accuracy, macro_f1, log_loss)")
    classes = np.union1d(np.unique(y), np.unique(predicted[predicted >= 0]))
    actual = (y[:, None] == classes[None, :]).astype(float)
    guessed = (predicted[:, None] == classes[None, :]).astype(float)

    def macro_f1(w: np.ndarray) -> np.ndarray:
        tp, pred, true = w @ (actual * guessed), w @ guessed, w @ actual
        denominator = pred + true  # 2 tp + fp + fn
        present = denominator > 0  # classes absent from a resample's target and prediction do not count
        f1 = np.where(present, 2 * tp / np.where(present, denominator, 1), 0.0)
        with np.errstate(invalid="ignore"):
            return f1.sum(axis=1) / present.sum(axis=1)
    return macro_f1
