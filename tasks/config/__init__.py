"""Typed configuration of a monitored model, loaded from `deployments/models/<model>.yaml`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import yaml
from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.functional_validators import BeforeValidator

from tasks.settings import models_dir

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

NUMERIC_METHODS = ("wasserstein", "ks", "psi", "kl_div", "jensenshannon", "anderson", "cramer_von_mises",
                   "mannw", "ed", "es", "t_test", "emperical_mmd", "hellinger")
CATEGORICAL_METHODS = ("jensenshannon", "chisquare", "z", "psi", "kl_div", "TVD", "fisher_exact", "g_test",
                       "hellinger")
CLASSIFICATION_METRICS = ("roc_auc", "accuracy", "f1", "log_loss")
REGRESSION_METRICS = ("rmse", "mae", "r2")


class ConfigError(ValueError):
    """A model configuration that cannot be used; the message names the file and the field."""


def parse_duration(value: object) -> timedelta:
    """'7d', '12h', '2w' (or a timedelta) to a timedelta."""
    if isinstance(value, timedelta):
        return value
    match = DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration like '7d', '12h' or '2w'")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a plain SQL identifier (letters, digits, underscores)")
    return value


Identifier = Annotated[str, BeforeValidator(lambda v: _identifier(str(v)))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(Strict):
    table: Identifier | None = None
    sql: str | None = None
    timestamp: Identifier
    id: Identifier

    @model_validator(mode="after")
    def one_of_table_or_sql(self) -> SourceConfig:
        if (self.table is None) == (self.sql is None):
            raise ValueError("give exactly one of 'table' or 'sql'")
        return self


class TargetConfig(Strict):
    column: Identifier
    label_delay: Duration = timedelta(0)


class ColumnsConfig(Strict):
    numeric: list[Identifier] = Field(default_factory=list)
    categorical: list[Identifier] = Field(default_factory=list)
    prediction: Identifier
    target: TargetConfig

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @model_validator(mode="after")
    def distinct(self) -> ColumnsConfig:
        names = [*self.features, self.prediction, self.target.column]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"columns listed twice: {', '.join(repeated)}")
        if not self.features:
            raise ValueError("list at least one numeric or categorical feature")
        return self


class ScheduleConfig(Strict):
    cron: str
    timezone: str = "UTC"
    window: Duration

    @field_validator("cron")
    @classmethod
    def valid_cron(cls, value: str) -> str:
        try:
            CronSim(value, datetime(2000, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"{value!r} is not a valid cron expression ({exc})") from None
        return value


class ReferenceConfig(Strict):
    from_: Literal["champion_training_window", "fixed_window"] = Field(
        "champion_training_window", alias="from")
    start: str | None = None
    end: str | None = None

    @model_validator(mode="after")
    def fixed_needs_bounds(self) -> ReferenceConfig:
        if self.from_ == "fixed_window" and not (self.start and self.end):
            raise ValueError("a fixed_window reference needs 'start' and 'end'")
        return self


class ValidationConfig(Strict):
    suite: str
    on_failure: Literal["block", "warn"] = "block"


class ColumnDriftOverride(Strict):
    method: str | None = None
    threshold: float | None = Field(None, gt=0)


class DriftConfig(Strict):
    numeric_method: str = "wasserstein"
    categorical_method: str = "jensenshannon"
    threshold: float = Field(0.1, gt=0)
    dataset_share: float = Field(0.3, gt=0, le=1)
    per_column: dict[str, ColumnDriftOverride] = Field(default_factory=dict)

    @field_validator("numeric_method")
    @classmethod
    def known_numeric(cls, value: str) -> str:
        if value not in NUMERIC_METHODS:
            raise ValueError(f"unknown numeric drift method {value!r}; use one of {', '.join(NUMERIC_METHODS)}")
        return value

    @field_validator("categorical_method")
    @classmethod
    def known_categorical(cls, value: str) -> str:
        if value not in CATEGORICAL_METHODS:
            raise ValueError(
                f"unknown categorical drift method {value!r}; use one of {', '.join(CATEGORICAL_METHODS)}")
        return value

    def method_for(self, column: str, kind: Literal["numeric", "categorical"]) -> str:
        override = self.per_column.get(column)
        if override and override.method:
            return override.method
        return self.numeric_method if kind == "numeric" else self.categorical_method

    def threshold_for(self, column: str) -> float:
        override = self.per_column.get(column)
        return override.threshold if override and override.threshold else self.threshold


class PerformanceConfig(Strict):
    metric: str
    max_drop: float = Field(0.05, ge=0)
    min_labelled_rows: int = Field(200, ge=1)


class PersistenceConfig(Strict):
    breaches: int = Field(2, ge=1)
    of_last: int = Field(3, ge=1)

    @model_validator(mode="after")
    def breaches_fit(self) -> PersistenceConfig:
        if self.breaches > self.of_last:
            raise ValueError("'breaches' cannot exceed 'of_last'")
        return self


class PolicyConfig(Strict):
    persistence: PersistenceConfig = PersistenceConfig()
    cooldown: Duration = timedelta(days=14)
    min_rows: int = Field(500, ge=1)


class PromotionGate(Strict):
    min_gain: float = 0.0


class RetrainingConfig(Strict):
    trainer: str
    train_window: Duration
    holdout: Duration = timedelta(days=7)
    promote_if: PromotionGate = PromotionGate()

    @field_validator("trainer")
    @classmethod
    def entry_point(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", value):
            raise ValueError(f"{value!r} is not an entry point like 'package.module:function'")
        return value


class ModelConfig(Strict):
    name: str
    task: Literal["classification", "regression"]
    source: SourceConfig
    columns: ColumnsConfig
    schedule: ScheduleConfig
    reference: ReferenceConfig = ReferenceConfig()
    validation: ValidationConfig
    drift: DriftConfig = DriftConfig()
    performance: PerformanceConfig
    policy: PolicyConfig = PolicyConfig()
    retraining: RetrainingConfig

    @field_validator("name")
    @classmethod
    def slug(cls, value: str) -> str:
        if not MODEL_NAME.match(value):
            raise ValueError(f"{value!r} must be lowercase letters, digits and dashes")
        return value

    @model_validator(mode="after")
    def consistent(self) -> ModelConfig:
        metrics = CLASSIFICATION_METRICS if self.task == "classification" else REGRESSION_METRICS
        if self.performance.metric not in metrics:
            raise ValueError(f"performance.metric {self.performance.metric!r} does not fit a {self.task} "
                             f"model; use one of {', '.join(metrics)}")
        unknown = sorted(set(self.drift.per_column) - {*self.columns.features, self.columns.prediction})
        if unknown:
            raise ValueError(f"drift.per_column names columns that are not monitored: {', '.join(unknown)}")
        for column, override in self.drift.per_column.items():
            kind = "categorical" if column in self.columns.categorical else "numeric"
            allowed = CATEGORICAL_METHODS if kind == "categorical" else NUMERIC_METHODS
            if override.method and override.method not in allowed:
                raise ValueError(f"drift.per_column.{column}.method {override.method!r} is not a {kind} "
                                 f"method; use one of {', '.join(allowed)}")
        return self

    @property
    def monitored_columns(self) -> list[str]:
        """Every column the monitor pulls from the warehouse, in a stable order."""
        cols = self.columns
        return [self.source.id, self.source.timestamp, *cols.features, cols.prediction, cols.target.column]


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def parse_model_config(text: str, source: str) -> ModelConfig:
    """Parse YAML text into a ModelConfig; errors name `source` and the failing fields."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    try:
        return ModelConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid configuration\n{_describe(exc)}") from None


def config_path(model: str, directory: Path | None = None) -> Path:
    return (directory or models_dir()) / f"{model}.yaml"


def load_model_config(model: str, directory: Path | None = None) -> ModelConfig:
    """Load `deployments/models/<model>.yaml`; the file's `name` must match the file name."""
    path = config_path(model, directory)
    if not path.is_file():
        known = ", ".join(list_models(directory)) or "none"
        raise ConfigError(f"{path}: no such model configuration (known models: {known})")
    config = parse_model_config(path.read_text(), str(path))
    if config.name != model:
        raise ConfigError(f"{path}: name: {config.name!r} does not match the file name {model!r}")
    return config


def list_models(directory: Path | None = None) -> list[str]:
    folder = directory or models_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
