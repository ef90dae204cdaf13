"""Trainers (entry points named in a model's `retraining.trainer`), scoring and metrics."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from tasks.config import ModelConfig

HIGHER_IS_BETTER = {"roc_auc": True, "accuracy": True, "f1": True, "r2": True,
                    "log_loss": False, "rmse": False, "mae": False}


class Estimator(Protocol):
    def predict(self, X: pd.DataFrame) -> Any: ...


Trainer = Callable[[pd.DataFrame, pd.Series, ModelConfig], Estimator]


class TrainerError(ValueError):
    """The configured trainer entry point cannot be loaded or failed to train."""


def gradient_boosting(features: pd.DataFrame, target: pd.Series, config: ModelConfig) -> Estimator:
    """The demo trainer: categorical features ordinal-encoded, then histogram gradient boosting."""
    categorical = config.columns.categorical
    encode = ColumnTransformer(
        [("categories", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                       encoded_missing_value=-1), categorical)],
        remainder="passthrough", verbose_feature_names_out=False)
    n_categorical = len(categorical)
    params: dict[str, Any] = {"max_iter": 200, "learning_rate": 0.05, "random_state": 0,
                              "categorical_features": list(range(n_categorical)) or None}
    booster = (HistGradientBoostingClassifier(**params) if config.task == "classification"
               else HistGradientBoostingRegressor(**params))
    pipeline = Pipeline([("encode", encode), ("model", booster)])
    pipeline.fit(features[config.columns.features], target)
    return pipeline


def load_trainer(entry_point: str) -> Trainer:
    """'package.module:function' to the function."""
    module_name, _, attribute = entry_point.partition(":")
    try:
        trainer = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise TrainerError(f"trainer {entry_point!r} cannot be loaded: {exc}") from None
    if not callable(trainer):
        raise TrainerError(f"trainer {entry_point!r} is not callable")
    return trainer


def predict(model: Estimator, features: pd.DataFrame, config: ModelConfig) -> np.ndarray:
    """The model's output as logged by serving: P(positive) for classification, the value otherwise."""
    X = features[config.columns.features]
    if config.task == "classification":
        return np.asarray(model.predict_proba(X))[:, 1]  # type: ignore[attr-defined]
    return np.asarray(model.predict(X), dtype=float)


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
