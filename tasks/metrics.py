"""Performance metrics on a labelled window, and which direction is better."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

HIGHER_IS_BETTER = {"roc_auc": True, "accuracy": True, "f1": True, "r2": True,
                    "log_loss": False, "rmse": False, "mae": False}


def score(metric: str, target: pd.Series | np.ndarray, prediction: pd.Series | np.ndarray) -> float | None:
    """The metric of `prediction` against `target`; None where it is undefined (e.g. one class only)."""
    y = np.asarray(target, dtype=float)
    p = np.asarray(prediction, dtype=float)
    if len(y) == 0:
        return None
    if metric in ("roc_auc", "log_loss") and len(np.unique(y)) < 2:
        return None
    functions: dict[str, Callable[[], float]] = {
        "roc_auc": lambda: roc_auc_score(y, p),
        "log_loss": lambda: log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]),
        "accuracy": lambda: accuracy_score(y, p >= 0.5),
        "f1": lambda: f1_score(y, p >= 0.5, zero_division=0),
        "rmse": lambda: root_mean_squared_error(y, p),
        "mae": lambda: mean_absolute_error(y, p),
        "r2": lambda: r2_score(y, p),
    }
    return float(functions[metric]())
