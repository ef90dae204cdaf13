"""Train a challenger on the recent labelled window, and score it and the champion on the same holdout rows.

A challenger comes from the configured trainer entry point, or from the user's own Prefect deployment
(`retraining.deployment`, see tasks/retrain/handoff.py). The champion is scored with its stored model; a
champion known only by its logged predictions (registered `--logged`), or no registered champion at all, is
scored by the predictions the log holds for the same holdout rows: a challenger never replaces the model
that wrote the log without beating it.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.metrics import score
from tasks.registry.model_files import artifact_exists, load_estimator
from tasks.registry.versions import Candidate, champion, fit_candidate
from tasks.retrain.gate import HoldoutScores
from tasks.retrain.handoff import new_handoff_key, run_training_deployment, training_parameters
from tasks.retrain.trainers import load_trainer, predict
from tasks.schedule import resolve_window
from tasks.source.query import read_range


def training_window(config: ModelConfig, window_end: datetime) -> tuple[datetime, datetime]:
    """The last `train_window` whose labels have matured by `window_end`."""
    end = resolve_window(config, window_end).labelled_end
    return end - config.retraining_or_fail.train_window, end


@task(name="extract-training-data", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def extract_training_data(config: ModelConfig, window_end: datetime) -> pd.DataFrame:
    """Labelled rows of the training window: id, time, features, target, and the logged prediction (the
    model that served them is compared on it when it has no model file)."""
    start, end = training_window(config, window_end)
    version = [config.source.model_version] if config.source.model_version else []
    columns = [config.source.id, config.source.timestamp, *version, *config.columns.features,
               config.columns.target.column, config.columns.prediction]
    return read_range(config, columns, start, end, labelled_only=True)


@task(name="train-challenger", cache_policy=NO_CACHE)
def train_challenger(config: ModelConfig, data: pd.DataFrame, window_end: datetime) -> Candidate:
    """Fit the configured trainer on the window minus its holdout, or have the training deployment do it."""
    start, end = training_window(config, window_end)
    retraining = config.retraining_or_fail
    if retraining.trainer is not None:
        return fit_candidate(config, data, start, end, load_trainer(retraining.trainer), retraining.trainer)
    return candidate_from_deployment(config, data, start, end)


def candidate_from_deployment(config: ModelConfig, data: pd.DataFrame, start: datetime, end: datetime) -> Candidate:
    """Run `retraining.deployment` on [start, split) and score what it hands back on the holdout [split, end)."""
    name = str(config.retraining_or_fail.deployment)
    split = end - config.retraining_or_fail.holdout
    handoff = new_handoff_key(config.name)
    estimator = run_training_deployment(name, training_parameters(config.name, (start, split), (split, end), handoff))
    ts, target = config.source.timestamp, config.columns.target.column
    labelled = data[data[target].notna()]
    holdout = labelled[labelled[ts] >= split]
    holdout_score = score(config.performance.metric, holdout[target], predict(estimator, holdout, config)) \
        if len(holdout) else None
    return Candidate(estimator, start, split, split, end, holdout_score, labelled, kind="deployment",
                     trainer=f"deployment:{name}")


@task(name="score-on-holdout", cache_policy=NO_CACHE)
def score_on_holdout(store: sa.Engine, config: ModelConfig, challenger: Candidate) -> HoldoutScores:
    """Predictions of the challenger and of the champion on the same holdout rows, for the gate."""
    ts, target, logged = config.source.timestamp, config.columns.target.column, config.columns.prediction
    holdout = challenger.data[challenger.data[ts] >= challenger.holdout_from]
    metric = config.performance.metric
    y = holdout[target].to_numpy(dtype=float)
    ours = predict(challenger.model, holdout, config)
    current = champion(store, config.name)
    version = int(current["version"]) if current else None
    if current is not None and artifact_exists(current):
        return HoldoutScores(metric, y, ours, predict(load_estimator(current), holdout, config), version,
                             f"champion v{version}")
    values = pd.to_numeric(holdout[logged], errors="coerce").to_numpy(dtype=float) if logged in holdout \
        else np.full(len(holdout), np.nan)
    present = ~np.isnan(values)
    if present.any():
        source = f"logged predictions of v{version}" if version else "logged predictions"
        return HoldoutScores(metric, y[present], ours[present], values[present], version, source)
    return HoldoutScores(metric, y, ours, None, version, "champion",
                         note=f"no model file and no logged {logged} on the holdout rows" if version else None)
