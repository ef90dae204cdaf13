"""Decision quality of a sequence of verdicts against a dataset's documented change: pure functions.

- **stable windows**: those that end on or before the first documented change (every window of a negative
  control); a `drift` there is a false alarm;
- **delay**: windows from the first one that contains the change to the first `drift` at or after it
  (0: flagged in the window of the change; None: never flagged);
- **harm onset**: windows from the change's window to the first one whose served metric is worse than in
  every stable window (when the change really started to cost the model);
- **retrain requests**: `drift` verdicts the cooldown lets through, in window time (what the loop would
  request if every request were delivered and no retrain changed the model: an open loop).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from benchmarks.quality.backfill import WindowOutcome
from benchmarks.quality.datasets import Dataset

SYMBOLS = {"ok": ".", "warn": "w", "drift": "D", "data_invalid": "x", "insufficient_data": "_", "error": "!"}
LOWER_IS_BETTER = {"mae", "rmse", "log_loss"}


def stable(ends: Sequence[datetime], change: datetime | None) -> list[bool]:
    """Which windows lie wholly before the change (all of them when there is none)."""
    return [change is None or end <= change for end in ends]


def change_window(ends: Sequence[datetime], change: datetime) -> int | None:
    """Index of the first window that contains the change (its end lies after it)."""
    return next((i for i, end in enumerate(ends) if end > change), None)


def delay(flags: Sequence[bool], ends: Sequence[datetime], change: datetime) -> int | None:
    """Windows from the change's window to the first flagged window at or after it; None if never flagged."""
    first = change_window(ends, change)
    if first is None:
        return None
    return next((i - first for i in range(first, len(flags)) if flags[i]), None)


def harm_onset(values: Sequence[float | None], stable_flags: Sequence[bool], ends: Sequence[datetime],
               change: datetime, lower_is_better: bool) -> int | None:
    """Windows from the change's window to the first whose metric is worse than the worst stable window's."""
    first = change_window(ends, change)
    baseline = [v for v, s in zip(values, stable_flags, strict=True) if s and v is not None]
    if first is None or not baseline:
        return None
    worst = max(baseline) if lower_is_better else min(baseline)
    for i in range(first, len(values)):
        value = values[i]
        if value is not None and (value > worst if lower_is_better else value < worst):
            return i - first
    return None


def count_requests(flags: Sequence[bool], ends: Sequence[datetime], cooldown: timedelta) -> int:
    """Flagged windows that a cooldown measured in window time lets through (each one restarts it)."""
    count, last = 0, None
    for flag, end in zip(flags, ends, strict=True):
        if flag and (last is None or end - last >= cooldown):
            count, last = count + 1, end
    return count


def timeline(symbols: Sequence[str], ends: Sequence[datetime], change: datetime | None) -> str:
    """One character per window, with `|` before the window that contains the change."""
    marker = None if change is None else change_window(ends, change)
    return "".join(("|" if i == marker else "") + s for i, s in enumerate(symbols))


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


@dataclass(frozen=True)
class DatasetResult:
    """One dataset's row of the decision-quality table."""

    name: str
    windows: int
    stable_windows: int
    false_drift: int  # driftflow `drift` verdicts in stable windows
    delay: int | None  # driftflow, windows after the change (None: never, or no change)
    harm: int | None  # windows after the change until the served metric left its stable range
    requests: int  # retrain requests the verdicts make under the model's cooldown (open loop)
    verdicts: dict[str, int]
    evidently_false: int  # Evidently default rule flags in stable windows
    evidently_delay: int | None
    evidently_flagged: int  # windows flagged by Evidently's default rule, in all
    metric: str
    stable_metric: float | None  # the served model's mean metric over stable windows
    changed_metric: float | None  # ... over the windows from the change on
    driftflow_timeline: str
    evidently_timeline: str
    negative_control: bool
    recorded_requests: dict[str, int] | None = None  # with --actions: what the store recorded, by status

    @property
    def false_drift_share(self) -> float:
        return self.false_drift / self.stable_windows if self.stable_windows else 0.0


def summarise(dataset: Dataset, outcomes: Sequence[WindowOutcome], cooldown: timedelta,
              recorded: dict[str, int] | None = None) -> DatasetResult:
    """The decision-quality row of one dataset from its windows' outcomes."""
    ends = [o.end for o in outcomes]
    change = dataset.changes[0].date if dataset.changes else None
    is_stable = stable(ends, change)
    drift = [o.verdict == "drift" for o in outcomes]
    evidently = [o.evidently_drift for o in outcomes]
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    return DatasetResult(
        name=dataset.name, windows=len(outcomes), stable_windows=sum(is_stable),
        false_drift=sum(d and s for d, s in zip(drift, is_stable, strict=True)),
        delay=None if change is None else delay(drift, ends, change),
        harm=None if change is None else harm_onset([o.served_metric for o in outcomes], is_stable, ends, change,
                                                    dataset.metric in LOWER_IS_BETTER),
        requests=count_requests(drift, ends, cooldown), verdicts=counts,
        evidently_false=sum(e and s for e, s in zip(evidently, is_stable, strict=True)),
        evidently_delay=None if change is None else delay(evidently, ends, change),
        evidently_flagged=sum(evidently), metric=dataset.metric,
        stable_metric=_mean([o.served_metric for o, s in zip(outcomes, is_stable, strict=True) if s]),
        changed_metric=_mean([o.served_metric for o, s in zip(outcomes, is_stable, strict=True) if not s]),
        driftflow_timeline=timeline([SYMBOLS.get(o.verdict, "?") for o in outcomes], ends, change),
        evidently_timeline=timeline(["E" if e else "." for e in evidently], ends, change),
        negative_control=dataset.negative_control, recorded_requests=recorded)
