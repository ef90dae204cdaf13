"""Trainers (entry points named in a model's `retraining.trainer`) and predictions as serving logs them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from tasks.config import ModelConfig
from tasks.errors import TrainerError


class Estimator(Protocol):
    def predict(self, X: pd.DataFrame) -> Any: ...


Trainer = Callable[[pd.DataFrame, pd.Series, ModelConfig], Estimator]


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


def load_trainer(entry_point: str | None) -> Trainer:
    """'package.module:function' to the function."""
    if entry_point is None:
        raise TrainerError("no trainer entry point configured (retraining.trainer)")
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
