"""Train a challenger on the recent labelled window and score it against the champion on one holdout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.metrics import HIGHER_IS_BETTER, score
from tasks.registry.versions import Candidate, champion, fit_candidate, load_estimator
from tasks.retrain.trainers import load_trainer, predict
from tasks.schedule import resolve_window
from tasks.source.query import read_range


@dataclass(frozen=True)
class Comparison:
    """Champion and challenger scored on the same most-recent holdout."""

    metric: str
    holdout_rows: int
    challenger_score: float | None
    champion_score: float | None
    champion_version: int | None
    higher_is_better: bool

    @property
    def gain(self) -> float | None:
        if self.challenger_score is None or self.champion_score is None:
            return None
        gap = self.challenger_score - self.champion_score
        return gap if self.higher_is_better else -gap


def training_window(config: ModelConfig, window_end: datetime) -> tuple[datetime, datetime]:
    """The last `train_window` whose labels have matured by `window_end`."""
    end = resolve_window(config, window_end).labelled_end
    return end - config.retraining_or_fail.train_window, end


@task(name="extract-training-data", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def extract_training_data(config: ModelConfig, window_end: datetime) -> pd.DataFrame:
    """Labelled rows of the training window from the warehouse (features, target, timestamp, id)."""
    start, end = training_window(config, window_end)
    columns = [config.source.id, config.source.timestamp, *config.columns.features, config.columns.target.column]
    return read_range(config, columns, start, end, labelled_only=True)


@task(name="train-challenger", cache_policy=NO_CACHE)
def train_challenger(config: ModelConfig, data: pd.DataFrame, window_end: datetime) -> Candidate:
    """Fit the configured trainer on the window minus its holdout."""
    start, end = training_window(config, window_end)
    return fit_candidate(config, data, start, end, load_trainer(config.retraining_or_fail.trainer))


@task(name="compare-on-holdout", cache_policy=NO_CACHE)
def compare_on_holdout(store: sa.Engine, config: ModelConfig, challenger: Candidate) -> Comparison:
    """Score the champion on the challenger's holdout, so both are judged on the same rows."""
    ts, target = config.source.timestamp, config.columns.target.column
    holdout = challenger.data[challenger.data[ts] >= challenger.holdout_from]
    metric = config.performance.metric
    current = champion(store, config.name)
    champion_score = None
    if current is not None:
        champion_score = score(metric, holdout[target], predict(load_estimator(current), holdout, config))
    return Comparison(metric, len(holdout), challenger.holdout_score, champion_score,
                      int(current["version"]) if current else None, HIGHER_IS_BETTER[metric])
