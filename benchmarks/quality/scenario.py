"""A dataset set up as a new user would: an inference log in the warehouse, a model YAML and a suite.

The "serving system" is the user's: a model trained on the dataset's first period with the built-in trainer
entry point named in the YAML, whose prediction is logged for every row. driftflow only reads that log.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from benchmarks.quality.datasets import ID, TIMESTAMP, Dataset

PREDICTION = "prediction"
TRAINER = "tasks.retrain.trainers:gradient_boosting"  # the built-in trainer a new user starts from
# a window's length in days, for the holdout: the longest month, so that a holdout before any month's end
# holds that whole month (30d before 1 January starts on 2 December and misses a log dated on the 1st)
WINDOW_DAYS = {"0 0 1 1 *": 365, "0 0 1 * *": 31, "0 0 1 1,4,7,10 *": 91}


@dataclass(frozen=True)
class Scenario:
    """One dataset ready to be monitored: its inference log and where its configuration lives."""

    dataset: Dataset
    log: pd.DataFrame  # every row with the serving model's prediction; timestamps naive UTC
    config_dir: Path
    serving_model: Any = None  # the estimator that made the logged predictions

    @property
    def model(self) -> str:
        return self.dataset.name

    @property
    def table(self) -> str:
        return f"{self.dataset.name}_log"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def model_yaml(dataset: Dataset, registered: bool = False) -> str:
    """The model's YAML as a new user writes it: the required settings, the shipped defaults for the rest.

    Three settings are not defaults, each for a reason a user meets at once: the reference is the first
    period the model served (there is no registered champion to take it from; with one, `registered`, the
    default applies: the champion's reference, which a promotion re-baselines), the windows are smaller than
    the default `min_rows` (500) and `min_labelled_rows` (200), and retraining names the built-in trainer
    with a training window and holdout in the data's own rhythm (a holdout of one window, whose rows the
    default `min_holdout_rows` (200) would also exceed).
    """
    days = WINDOW_DAYS[dataset.cron]
    train_days = (dataset.train[1] - dataset.train[0]).days
    lines = [
        f"# {dataset.title}",
        f"name: {dataset.name}",
        f"task: {dataset.task}",
        f"source: {{table: {dataset.name}_log, timestamp: {TIMESTAMP}, id: {ID}}}",
        "columns:",
        f"  numeric: [{', '.join(dataset.numeric)}]",
        f"  categorical: [{', '.join(dataset.categorical)}]",
        *([f"  context: [{', '.join(dataset.context)}]  # calendar features: for the model, not drift"]
          if dataset.context else []),
        f"  prediction: {PREDICTION}",
        f"  target: {{column: {dataset.target}}}",
        f'schedule: {{cron: "{dataset.cron}", window: {dataset.window}}}',
        *([] if registered else [f"reference: {{from: fixed_window, start: {_iso(dataset.reference[0])}, "
                                 f"end: {_iso(dataset.reference[1])}}}"]),
        f"validation: {{suite: {dataset.name}}}",
        f"performance: {{metric: {dataset.metric}, min_labelled_rows: {dataset.min_rows}}}",
        f"policy: {{min_rows: {dataset.min_rows}}}",
        f'retraining: {{trainer: "{TRAINER}", train_window: {train_days}d, holdout: {days}d, '
        f"promote_if: {{min_holdout_rows: {dataset.min_rows}}}}}",
    ]
    return "\n".join(lines) + "\n"


def minimal_suite(dataset: Dataset) -> dict[str, Any]:
    """The suite a new user writes first: the window has rows, every column exists, ids and predictions set."""
    def expectation(kind: str, **kwargs: Any) -> dict[str, Any]:
        return {"type": kind, "kwargs": kwargs, "meta": {}, "severity": "critical"}

    columns = [ID, TIMESTAMP, *dataset.features, PREDICTION, dataset.target]
    return {"name": dataset.name, "meta": {}, "expectations": [
        expectation("expect_table_row_count_to_be_between", min_value=1),
        *(expectation("expect_column_to_exist", column=c) for c in columns),
        *(expectation("expect_column_values_to_not_be_null", column=c) for c in (ID, PREDICTION)),
    ]}


def write_configuration(dataset: Dataset, project: Path, registered: bool = False) -> Path:
    """`deployments/models/<name>.yaml` and `expectations/<name>.json` under `project`; returns the models folder."""
    models, suites = project / "deployments" / "models", project / "expectations"
    models.mkdir(parents=True, exist_ok=True)
    suites.mkdir(parents=True, exist_ok=True)
    (models / f"{dataset.name}.yaml").write_text(model_yaml(dataset, registered))
    (suites / f"{dataset.name}.json").write_text(json.dumps(minimal_suite(dataset), indent=2))
    return models


def in_period(frame: pd.DataFrame, period: tuple[datetime, datetime]) -> pd.DataFrame:
    """Rows of [start, end) of a frame whose timestamps are naive UTC."""
    start, end = (pd.Timestamp(m).tz_convert("UTC").tz_localize(None) for m in period)
    return frame[(frame[TIMESTAMP] >= start) & (frame[TIMESTAMP] < end)]


def train_serving_model(dataset: Dataset, frame: pd.DataFrame, config: Any) -> Any:
    """The user's model: the configured trainer on the training period."""
    module, _, function = TRAINER.partition(":")
    trainer = getattr(importlib.import_module(module), function)
    train = in_period(frame, dataset.train)
    return trainer(train, train[dataset.target], config)


def serve(dataset: Dataset, frame: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Log the model's prediction for every row."""
    features = frame[dataset.features]
    predicted = (model.predict_proba(features)[:, 1] if dataset.task == "classification"
                 else model.predict(features))
    return frame.assign(**{PREDICTION: np.asarray(predicted, dtype=float)})


def set_up(dataset: Dataset, project: Path, warehouse_url: str, registered: bool = False) -> Scenario:
    """Write the configuration, serve the whole history and load the inference log into the warehouse.
    `registered`: the serving model will be registered as champion (the reference is then its own)."""
    from tasks.config import load_model_config

    models = write_configuration(dataset, project, registered)
    config = load_model_config(dataset.name, models)
    frame = dataset.load()
    model = train_serving_model(dataset, frame, config)
    log = serve(dataset, frame, model)
    table = f"{dataset.name}_log"
    engine = sa.create_engine(warehouse_url)
    try:
        with engine.begin() as conn:
            log.to_sql(table, conn, if_exists="replace", index=False, chunksize=20_000)
            conn.execute(sa.text(f"CREATE INDEX ix_{table}_time ON {table} ({TIMESTAMP})"))
    finally:
        engine.dispose()
    return Scenario(dataset, log, models, model)
