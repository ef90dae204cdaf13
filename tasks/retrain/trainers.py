"""Trainers (entry points named in a model's `retraining.trainer`) and predictions as serving logs them.

A trainer is any importable function with this signature (`module.path:function` in the YAML):

    def train(features: pandas.DataFrame, target: pandas.Series, config: ModelConfig) -> estimator

- `features` holds the labelled training rows (features by `columns.numeric` and `columns.categorical`, plus
  the id and timestamp columns; select `config.columns.features`), `target` their labels;
- categorical values arrive as they are stored: strings, numbers, or None / NaN for NULL. scikit-learn's
  encoders refuse a column mixing strings and None, so a trainer must map NULL to a category or to NaN
  itself (the built-in `gradient_boosting` does: see `categories_as_text`);
- the estimator must take a DataFrame of the same columns: `predict_proba` (column 1 = P(positive)) for a
  classifier, `predict` for a regressor, and be picklable (joblib), since driftflow stores it.
The module is imported with the project folder on `sys.path` (as `serve` and workers run), so a trainer in
`<project>/trainers/my_model.py` is named `trainers.my_model:train`.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

from tasks.config import ModelConfig
from tasks.errors import TrainerError
from tasks.settings import project_dir


class Estimator(Protocol):
    def predict(self, X: pd.DataFrame) -> Any: ...


Trainer = Callable[[pd.DataFrame, pd.Series, ModelConfig], Estimator]


def categories_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value as text and every NULL (None, NaN, NA) as NaN: what scikit-learn's encoders accept."""
    return frame.apply(lambda column: column.astype(object).where(column.notna(), np.nan)
                       .map(lambda v: v if isinstance(v, float) and np.isnan(v) else str(v)))


def gradient_boosting(features: pd.DataFrame, target: pd.Series, config: ModelConfig) -> Estimator:
    """The built-in trainer: categories as text (NULL kept as missing), ordinal-encoded, then histogram
    gradient boosting (a classifier for classification, a regressor otherwise)."""
    categorical = config.columns.categorical
    text = FunctionTransformer(categories_as_text, feature_names_out="one-to-one")
    encode = ColumnTransformer(
        [("categories", Pipeline([("text", text), ("codes", OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1))]), categorical)],
        remainder="passthrough", verbose_feature_names_out=False)
    params: dict[str, Any] = {"max_iter": 200, "learning_rate": 0.05, "random_state": 0,
                              "categorical_features": list(range(len(categorical))) or None}
    booster = (HistGradientBoostingClassifier(**params) if config.task == "classification"
               else HistGradientBoostingRegressor(**params))
    pipeline = Pipeline([("encode", encode), ("model", booster)])
    pipeline.fit(features[config.columns.features], target)
    return pipeline


def _prefer_project(folder: str, package: str) -> None:
    """Put the project folder first on sys.path; a same-named package loaded earlier from elsewhere (another
    project's `trainers`, in a long-lived process) is forgotten, so this project's module is the one found."""
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    local = Path(folder) / package
    if not (local.is_dir() or local.with_suffix(".py").is_file()):
        return
    loaded = sys.modules.get(package)
    places = [getattr(loaded, "__file__", None) or "", *getattr(loaded, "__path__", [])]
    if loaded is not None and not any(str(p).startswith(str(local)) for p in places):
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
        importlib.invalidate_caches()


def load_trainer(entry_point: str | None) -> Trainer:
    """'package.module:function' to the function, imported with the project folder on sys.path."""
    if entry_point is None:
        raise TrainerError("no trainer entry point configured (retraining.trainer)")
    module_name, _, attribute = entry_point.partition(":")
    _prefer_project(str(project_dir()), module_name.split(".")[0])
    try:
        trainer = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise TrainerError(f"retraining.trainer {entry_point!r} cannot be loaded: {exc}") from None
    if not callable(trainer):
        raise TrainerError(f"retraining.trainer {entry_point!r} is not callable")
    try:
        inspect.signature(trainer).bind(None, None, None)
    except TypeError:
        raise TrainerError(f"retraining.trainer {entry_point!r} must take (features, target, config)") from None
    except ValueError:
        pass  # no signature to inspect (a builtin): it is called and judged by what it does
    return trainer


def train_with(trainer: Trainer, entry_point: str, features: pd.DataFrame, target: pd.Series,
               config: ModelConfig) -> Estimator:
    """Call a trainer; whatever it raises becomes a TrainerError naming the entry point."""
    try:
        model = trainer(features, target, config)
    except Exception as exc:
        raise TrainerError(f"retraining.trainer {entry_point!r} failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(model, "predict_proba" if config.task == "classification" else "predict"):
        raise TrainerError(f"retraining.trainer {entry_point!r} returned {type(model).__name__}, which has no "
                           f"{'predict_proba' if config.task == 'classification' else 'predict'}")
    return model


def predict(model: Estimator, features: pd.DataFrame, config: ModelConfig) -> np.ndarray:
    """The model's output as logged by serving: P(positive) for classification, the value otherwise."""
    X = features[config.columns.features]
    if config.task == "classification":
        return np.asarray(model.predict_proba(X))[:, 1]  # type: ignore[attr-defined]
    return np.asarray(model.predict(X), dtype=float)
