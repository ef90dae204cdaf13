"""A monitored model's whole configuration: the sections, checked against each other."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator, model_validator

from tasks.config.sections import (
    CATEGORICAL_METHODS,
    METRICS,
    NUMERIC_METHODS,
    ColumnsConfig,
    DriftConfig,
    HealthConfig,
    PerformanceConfig,
    PolicyConfig,
    ReferenceConfig,
    RetrainingConfig,
    ScheduleConfig,
    SourceConfig,
    ValidationConfig,
)
from tasks.config.types import Strict
from tasks.errors import ConfigError

MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
Task = Literal["classification", "regression", "multiclass"]


class ModelConfig(Strict):
    name: str
    task: Task
    source: SourceConfig
    columns: ColumnsConfig
    schedule: ScheduleConfig
    reference: ReferenceConfig = ReferenceConfig()
    validation: ValidationConfig
    drift: DriftConfig = DriftConfig()
    performance: PerformanceConfig
    policy: PolicyConfig = PolicyConfig()
    retraining: RetrainingConfig | None = None  # none: a monitor-only model (verdicts and events, no retrains)
    health: HealthConfig = HealthConfig()

    @field_validator("name")
    @classmethod
    def slug(cls, value: str) -> str:
        if not MODEL_NAME.match(value):
            raise ValueError(f"{value!r} must be lowercase letters, digits and dashes")
        return value

    @model_validator(mode="after")
    def consistent(self) -> ModelConfig:
        metrics = METRICS[self.task]
        if self.performance.metric not in metrics:
            raise ValueError(f"performance.metric {self.performance.metric!r} does not fit a {self.task} "
                             f"model; use one of {', '.join(metrics)}")
        if self.performance.estimate != "off" and self.task != "classification":
            raise ValueError("performance.estimate (label-free, CBPE) needs a binary classification model with "
                             "calibrated probabilities; set it to 'off'")
        if self.columns.probabilities and self.task != "multiclass":
            raise ValueError("columns.probabilities is for multiclass models; a binary classifier logs "
                             "P(positive) as its prediction")
        if self.task == "multiclass" and self.performance.metric == "log_loss" and not self.columns.probabilities:
            raise ValueError("performance.metric log_loss needs columns.probabilities (a column per class)")
        unknown = sorted(set(self.drift.per_column) - {*self.columns.drift_features, self.columns.prediction})
        if unknown:
            raise ValueError(f"drift.per_column names columns that are not drift-scored: {', '.join(unknown)}")
        for column, override in self.drift.per_column.items():
            kind = "categorical" if column in self.columns.categorical else "numeric"
            allowed = CATEGORICAL_METHODS if kind == "categorical" else NUMERIC_METHODS
            if override.method and override.method not in allowed:
                raise ValueError(f"drift.per_column.{column}.method {override.method!r} is not a {kind} "
                                 f"method; use one of {', '.join(allowed)}")
        version = self.source.model_version
        if version and version in {*self.columns.features, self.columns.prediction, self.columns.target.column}:
            raise ValueError(f"source.model_version {version!r} is also a feature, prediction or target column")
        lag, window = self.reference.lag, self.schedule.window
        if self.reference.from_ == "lag" and lag is not None and not self.schedule.by_tick \
                and not lag.calendar and not window.calendar and lag.delta < window.delta:
            raise ValueError(f"reference.lag {lag} is shorter than the window {window}: the reference would "
                             "overlap the window it is compared with")
        return self

    @property
    def retraining_or_fail(self) -> RetrainingConfig:
        """The retraining section; a monitor-only model has none, and asking for it is a configuration error."""
        if self.retraining is None:
            raise ConfigError(f"{self.name}: no retraining section: a monitor-only model is never retrained "
                              "(add `retraining:` with a trainer or a deployment)")
        return self.retraining

    @property
    def monitor_only(self) -> bool:
        """No retraining section: verdicts and events, never a retrain."""
        return self.retraining is None

    @property
    def monitored_columns(self) -> list[str]:
        """Every column the monitor pulls from the warehouse, in a stable order."""
        cols = self.columns
        version = [self.source.model_version] if self.source.model_version else []
        return [self.source.id, self.source.timestamp, *version, *cols.features, cols.prediction,
                *cols.probabilities.values(), cols.target.column]
