"""The sections of a monitored model's YAML file, each a typed, strict pydantic model."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import Field, field_validator, model_validator

from tasks.config.types import (
    AllowanceValue,
    CalendarSpan,
    Duration,
    Identifier,
    Moment,
    Span,
    Strict,
    parse_allowance,
    parse_span,
)

NUMERIC_METHODS = ("wasserstein", "ks", "psi", "kl_div", "jensenshannon", "anderson", "cramer_von_mises",
                   "mannw", "ed", "es", "t_test", "empirical_mmd", "hellinger")
CATEGORICAL_METHODS = ("jensenshannon", "chisquare", "z", "psi", "kl_div", "TVD", "fisher_exact", "g_test",
                       "hellinger")
METRICS = {
    "classification": ("roc_auc", "accuracy", "f1", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
    "multiclass": ("accuracy", "macro_f1", "log_loss"),
}
ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
DEPLOYMENT = re.compile(r"^[^/\s]+/[^/\s]+$")
TICK = "tick"  # schedule.window: the interval since the schedule's previous tick


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (IANA names such as UTC or Europe/Berlin)") from None
    return value


class SourceConfig(Strict):
    """Where the inference log lives in the warehouse (the URL comes from the environment, never from here)."""

    table: Identifier | None = None
    sql: str | None = None
    timestamp: Identifier
    id: Identifier
    model_version: Identifier | None = None  # the column naming the model version that made each prediction
    timezone: str = "UTC"  # the zone of timestamps stored without one
    # "aggregates": the features never leave a PostgreSQL warehouse: it counts them for the drift scores
    # (`tasks/source/pushdown.py`) and runs the suite; the monitor pulls the ids, times, predictions and labels
    pull: Literal["rows", "aggregates"] = "rows"

    @model_validator(mode="after")
    def one_of_table_or_sql(self) -> SourceConfig:
        if (self.table is None) == (self.sql is None):
            raise ValueError("give exactly one of 'table' or 'sql'")
        return self

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        return _zone(value)


class TargetConfig(Strict):
    column: Identifier
    label_delay: Duration = timedelta(0)
    positive: str | int | float | bool | None = None  # binary targets that are not 0/1: the positive label


class ColumnsConfig(Strict):
    numeric: list[Identifier] = Field(default_factory=list)
    categorical: list[Identifier] = Field(default_factory=list)
    context: list[Identifier] = Field(default_factory=list)  # features for training and validation, not drift
    prediction: Identifier
    probabilities: dict[str, Identifier] = Field(default_factory=dict)  # multiclass: class -> probability column
    target: TargetConfig

    @property
    def features(self) -> list[str]:
        """Every feature the model uses (what a trainer receives)."""
        return [*self.numeric, *self.categorical]

    @property
    def drift_numeric(self) -> list[str]:
        return [c for c in self.numeric if c not in self.context]

    @property
    def drift_categorical(self) -> list[str]:
        return [c for c in self.categorical if c not in self.context]

    @property
    def drift_features(self) -> list[str]:
        """The features whose drift is scored: every feature but the context ones."""
        return [*self.drift_numeric, *self.drift_categorical]

    @model_validator(mode="after")
    def distinct(self) -> ColumnsConfig:
        names = [*self.features, self.prediction, self.target.column, *self.probabilities.values()]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"columns listed twice: {', '.join(repeated)}")
        if not self.features:
            raise ValueError("list at least one numeric or categorical feature")
        stray = [c for c in self.context if c not in self.features]
        if stray:
            raise ValueError(f"context columns must also be listed as numeric or categorical: {', '.join(stray)}")
        return self


def valid_cron(value: str) -> str:
    try:
        CronSim(value, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ValueError(f"{value!r} is not a valid cron expression ({exc})") from None
    return value


class ScheduleConfig(Strict):
    cron: str
    timezone: str = "UTC"
    window: Span  # '7d', '1mo', '1y', or 'tick': since the schedule's previous tick (calendar months, years)

    @field_validator("cron")
    @classmethod
    def valid_cron(cls, value: str) -> str:
        return valid_cron(value)

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        return _zone(value)

    @field_validator("window", mode="before")
    @classmethod
    def window_length(cls, value: object) -> Span:
        if isinstance(value, str) and value.strip() == TICK:
            return Span(TICK)
        try:
            return parse_span(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a window like '7d', '1mo' or 'tick' (since the previous "
                             "scheduled tick)") from None

    @property
    def by_tick(self) -> bool:
        return self.window.text == TICK


class ReferenceConfig(Strict):
    """What a window is compared with.

    - `champion_training_window`: the data the current champion was trained on (or registered with);
    - `fixed_window`: [start, end) of the log, once;
    - `lag`: the same window one `lag` earlier (`1y`, `7d`): seasonal data compared with its own season;
    - `rolling`: the `length` of log just before the window.
    """

    from_: Literal["champion_training_window", "fixed_window", "lag", "rolling"] = Field(
        "champion_training_window", alias="from")
    start: Moment | None = None
    end: Moment | None = None
    lag: CalendarSpan | None = None
    length: CalendarSpan | None = None

    @model_validator(mode="after")
    def fits_its_kind(self) -> ReferenceConfig:
        if self.from_ == "fixed_window":
            if not (self.start and self.end):
                raise ValueError("a fixed_window reference needs 'start' and 'end'")
            if self.start >= self.end:
                raise ValueError(f"start {self.start.isoformat()} is not before end {self.end.isoformat()}")
        if self.from_ == "lag" and self.lag is None:
            raise ValueError("a lag reference needs 'lag', e.g. lag: 1y")
        if self.from_ == "rolling" and self.length is None:
            raise ValueError("a rolling reference needs 'length', e.g. length: 28d")
        return self


class ValidationConfig(Strict):
    suite: str
    on_failure: Literal["block", "warn"] = "block"  # for critical expectations without an action of their own
    max_quarantined: float = Field(0.2, ge=0, le=1)  # quarantining more than this share of rows blocks instead


class ColumnDriftOverride(Strict):
    method: str | None = None
    threshold: float | None = Field(None, gt=0)  # a fixed threshold for this column instead of the calibrated one


class CalibrationConfig(Strict):
    """How each statistic's normal band is learned from the reference's window-sized chunks."""

    band: str = "p99"  # 'p99' (a percentile of chunk scores) or '3sigma' (mean + k standard deviations)
    chunks: Literal["time", "rows"] = "time"
    min_chunks: int = Field(3, ge=2)  # fewer chunks than this: fixed thresholds, with a note

    @field_validator("band")
    @classmethod
    def known_band(cls, value: str) -> str:
        if not re.fullmatch(r"p(\d{1,2}(\.\d+)?)|(\d+(\.\d+)?)sigma", value):
            raise ValueError(f"{value!r} is not a band like 'p99' or '3sigma'")
        return value


class FalseAlarmConfig(Strict):
    """One false-alarm budget shared by all features of a window."""

    control: Literal["benjamini_hochberg", "bonferroni", "none"] = "benjamini_hochberg"
    rate: float = Field(0.05, gt=0, lt=1)


Severity = Literal["warn", "breach"]


class SeverityConfig(Strict):
    """Which drift signals count as breaches (toward `drift`) and which only warn."""

    features: Severity = "warn"
    prediction: Severity = "warn"
    target: Severity = "warn"


class DriftConfig(Strict):
    numeric_method: str = "wasserstein"
    categorical_method: str = "jensenshannon"
    threshold: float | None = Field(None, gt=0)  # None: thresholds are learned from the reference (calibrated)
    fallback_threshold: float = Field(0.1, gt=0)  # when the reference has too few chunks to calibrate
    calibration: CalibrationConfig = CalibrationConfig()
    false_alarms: FalseAlarmConfig = FalseAlarmConfig()
    dataset_share: float = Field(0.3, gt=0, le=1)
    report_rows: int = Field(5_000, ge=100)  # the HTML report draws at most this many rows of each side
    report_columns: int = Field(12, ge=1)  # ... and shows at most this many columns: the prediction, then the
    #                                        features nearest or beyond their thresholds (rendering is per column)
    severity: SeverityConfig = SeverityConfig()
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

    def fixed_threshold_for(self, column: str) -> float | None:
        """The fixed threshold of a column (its own, else the model's); None: calibrated."""
        override = self.per_column.get(column)
        if override and override.threshold:
            return override.threshold
        return self.threshold

    def threshold_for(self, column: str) -> float:
        """The fixed threshold, or the fallback used when calibration is impossible."""
        fixed = self.fixed_threshold_for(column)
        return fixed if fixed is not None else self.fallback_threshold


class RelabelConfig(Strict):
    """A scheduled look for labels that matured late: recorded windows whose labels changed are run again."""

    cron: str  # when to look, in the schedule's time zone
    lookback: Duration = timedelta(days=28)  # the recorded windows ending this long before the latest window end

    @field_validator("cron")
    @classmethod
    def valid_cron(cls, value: str) -> str:
        return valid_cron(value)


class PerformanceConfig(Strict):
    metric: str
    max_drop: AllowanceValue = Field(default_factory=lambda: parse_allowance("2sd"))
    min_labelled_rows: int = Field(200, ge=1)
    confidence: float = Field(0.95, gt=0.5, lt=1)  # the drop's lower confidence bound must exceed the allowance
    estimate: Literal["off", "warn", "breach"] = "off"  # label-free estimate (CBPE, calibrated classifiers)
    relabel: RelabelConfig | None = None  # None: late labels are picked up only by `driftflow relabel`


class PersistenceConfig(Strict):
    breaches: int = Field(2, ge=1)
    of_last: int = Field(3, ge=1)

    @model_validator(mode="after")
    def breaches_fit(self) -> PersistenceConfig:
        if self.breaches > self.of_last:
            raise ValueError("'breaches' cannot exceed 'of_last'")
        return self


class SevereConfig(Strict):
    """A performance drop far beyond its allowance: acted on at once."""

    factor: float = Field(2.0, gt=1)  # severe: the drop's lower bound exceeds factor times the allowance
    skips_persistence: bool = True
    overrides_cooldown: bool = True


class PolicyConfig(Strict):
    persistence: PersistenceConfig = PersistenceConfig()
    cooldown: Duration = timedelta(days=14)
    severe: SevereConfig = SevereConfig()
    min_rows: int = Field(500, ge=1)


class PromotionGate(Strict):
    min_gain: float = 0.0
    confidence: float = Field(0.9, ge=0.5, lt=1)  # paired bootstrap: P(challenger better by > min_gain)
    min_holdout_rows: int = Field(200, ge=1)
    resamples: int = Field(1000, ge=100)


class WatchConfig(Strict):
    """A promoted model watched on its first windows in service, and rolled back if it serves worse."""

    windows: int = Field(2, ge=0)  # 0: not watched
    rollback: bool = True


class RetrainingConfig(Strict):
    """How a challenger is made: a trainer entry point, or the user's own Prefect deployment."""

    trainer: str | None = None
    deployment: str | None = None
    train_window: Duration
    holdout: Duration = timedelta(days=7)
    failure_backoff: Duration = timedelta(days=1)  # in window time, doubling with each failure in a row
    promote_if: PromotionGate = PromotionGate()
    watch: WatchConfig = WatchConfig()

    @field_validator("trainer")
    @classmethod
    def entry_point(cls, value: str | None) -> str | None:
        if value is not None and not ENTRY_POINT.match(value):
            raise ValueError(f"{value!r} is not an entry point like 'package.module:function'")
        return value

    @field_validator("deployment")
    @classmethod
    def deployment_name(cls, value: str | None) -> str | None:
        if value is not None and not DEPLOYMENT.match(value):
            raise ValueError(f"{value!r} is not a deployment name like 'train/my-model'")
        return value

    @model_validator(mode="after")
    def one_target(self) -> RetrainingConfig:
        if (self.trainer is None) == (self.deployment is None):
            raise ValueError("give exactly one of 'trainer' (module:function) or 'deployment' (flow/deployment)")
        if self.holdout >= self.train_window:
            raise ValueError("'holdout' must be shorter than 'train_window'")
        return self


class HealthConfig(Strict):
    """When the monitor of this model counts as unhealthy."""

    grace: Duration = timedelta(hours=1)  # a scheduled run not completed this long after its time is late
    failures: int = Field(3, ge=1)  # failed or crashed runs in a row
    max_data_age: Duration | None = None  # newest source row older than this: stale (default: one window)
