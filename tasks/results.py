"""Small typed summaries that cross task boundaries.

Great Expectations and Evidently results are converted into these at the boundary (by name, never by
position), so flows, the policy and the store never touch library objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pandas as pd

VerdictStatus = Literal["ok", "warn", "drift", "data_invalid", "insufficient_data", "error"]
ColumnKind = Literal["numeric", "categorical", "prediction", "target"]
Severity = Literal["warn", "breach"]
ExpectationAction = Literal["block", "quarantine", "warn"]


@dataclass(frozen=True)
class Window:
    """The monitored window [start, end) and its matured (labelled) counterpart shifted by the label delay."""

    start: datetime
    end: datetime
    labelled_start: datetime
    labelled_end: datetime


MEASUREMENT = "measurement"  # the outcome of a problem met while reading or measuring a window: "measurement failed: …"


@dataclass(frozen=True)
class Unmeasurable:
    """Why a window's data cannot be read or measured at all (a data problem: the window is `data_invalid`)."""

    problem: str


@dataclass(frozen=True)
class WindowData:
    """What the extractor pulled: the window's rows, and the matured window's rows that carry a label."""

    window: Window
    current: pd.DataFrame
    labelled: pd.DataFrame


@dataclass(frozen=True)
class Reference:
    """A versioned reference snapshot: the champion's training data scored by it, or a window of the log."""

    version: str
    data: pd.DataFrame
    performance: float | None
    model_version: str | None = None
    profile: Any = None  # tasks.monitor.profile.ReferenceProfile: what every pinned drift method needs
    calibration: dict[str, Any] | None = None  # Calibration.to_dict() plus "performance": metric per chunk


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: Literal["critical", "warning", "info"]
    success: bool
    observed: str | None = None
    unexpected_count: int | None = None
    action: ExpectationAction | None = None  # what a failure does; None: block if critical, else warn
    position: int | None = None  # index in the suite
    expected: str | None = None  # the bounds or set it was held to, e.g. "between -20 and 120"

    @property
    def effective_action(self) -> ExpectationAction:
        if self.action is not None:
            return self.action
        return "block" if self.severity == "critical" else "warn"


@dataclass(frozen=True)
class ValidationSummary:
    suite: str
    outcomes: list[ExpectationOutcome]
    error: str | None = None  # the suite could not be evaluated at all (treated as a blocking failure)
    quarantined_rows: int = 0  # rows left out by quarantine expectations (the rest was measured)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        """Failures that make the window data_invalid."""
        return [o for o in self.outcomes if not o.success and o.effective_action == "block"]

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def quarantines(self) -> list[ExpectationOutcome]:
        """Quarantine expectations that left rows out."""
        return [o for o in self.outcomes if not o.success and o.effective_action == "quarantine"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Failures that only warn."""
        return [o for o in self.outcomes if not o.success and o.effective_action == "warn"]

    @property
    def unreadable(self) -> bool:
        """A problem met while reading or measuring the window blocks it (not a suite's expectation)."""
        return any(o.expectation == MEASUREMENT for o in self.blocking_failures)

    @property
    def success(self) -> bool:
        """Nothing blocks the window (quarantined rows and warnings do not)."""
        return self.error is None and not self.blocking_failures


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: ColumnKind
    method: str
    threshold: float
    score: float | None  # None when the column could not be measured; `issue` says why
    drifted: bool
    issue: str | None = None  # something to look at: the verdict warns about it
    note: str | None = None  # informational only (e.g. a few rows of unseen categories)
    p_value: float | None = None  # tail probability of the score among the reference's chunk scores
    threshold_source: str = "fixed"  # where `threshold` came from: "p99 of 24 reference chunks", "fixed", …
    severity: Severity = "warn"  # what drift of this column does to the verdict


@dataclass(frozen=True)
class PerformanceSummary:
    metric: str
    value: float | None
    reference_value: float | None
    labelled_rows: int
    higher_is_better: bool = True
    ci_low: float | None = None  # confidence interval of `value` from the window's labelled rows
    ci_high: float | None = None
    allowance: float | None = None  # the allowed drop in metric units
    allowance_source: str | None = None  # "2sd: twice the spread of 24 reference chunks"
    estimated_value: float | None = None  # label-free estimate on the current window (CBPE)
    estimated_method: str | None = None
    estimate_trusted: bool = True  # False: the probabilities are not calibrated enough (the estimate only warns)

    @property
    def drop(self) -> float | None:
        """How much worse than the reference (positive = worse), in the metric's units."""
        if self.value is None or self.reference_value is None:
            return None
        gap = self.reference_value - self.value
        return gap if self.higher_is_better else -gap


@dataclass(frozen=True)
class DriftSummary:
    columns: list[ColumnDrift]  # features, then the prediction, then the target
    drift_share: float  # share of measured features that drifted
    performance: PerformanceSummary
    report_path: str | None = None
    false_alarm_control: str | None = None  # how drift across features was controlled, said in the report
    notes: list[str] = field(default_factory=list)  # reference-level notes, e.g. a constant reference column

    @property
    def features(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.kind in ("numeric", "categorical")]

    @property
    def drifted_features(self) -> list[ColumnDrift]:
        return [c for c in self.features if c.drifted]

    def of_kind(self, kind: ColumnKind) -> ColumnDrift | None:
        return next((c for c in self.columns if c.kind == kind), None)


@dataclass(frozen=True)
class Verdict:
    status: VerdictStatus
    reasons: list[str]
    breach: bool  # this window alone breached a drift rule (persistence decides whether it is `drift`)
    drifted_columns: list[str] = field(default_factory=list)
    severe: bool = False  # a breach far beyond its allowance: may skip persistence and override the cooldown
