"""Is a model's monitor healthy? A pure assessment of what its runs, its store and its source say.

Late: the window of the last tick due (at least `health.grace` ago, after the deployment existed) is not
recorded. Failing: the newest finished runs failed or crashed `health.failures` times in a row. Stale: the
source's newest row is older than `health.max_data_age` (default: the length of one window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tasks.config import ModelConfig
from tasks.schedule import latest_window_end, window_start

FAILED = ("FAILED", "CRASHED")
UNFINISHED = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING")


@dataclass(frozen=True)
class MonitorRun:
    """One flow run of `monitor/<model>` as Prefect reports it."""

    name: str
    expected_start: datetime
    state_type: str  # COMPLETED, FAILED, CRASHED, CANCELLED, SCHEDULED, …
    state_name: str
    end: datetime | None = None
    message: str | None = None


@dataclass(frozen=True)
class HealthInputs:
    now: datetime
    last_window: dict[str, Any] | None  # newest recorded window: window_end, status, recorded_at
    recorded_ends: frozenset[datetime] = frozenset()  # the recorded window ends near the due one
    runs: list[MonitorRun] | None = None  # newest first; None when Prefect could not be asked
    deployed_at: datetime | None = None  # when monitor/<model> was created; None: not deployed / unknown
    newest_row: datetime | None = None
    freshness_error: str | None = None  # the source could not be read
    open_requests: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class HealthReport:
    model: str
    healthy: bool
    problems: list[str]
    last_verdict: str | None
    last_window_end: datetime | None
    last_success: datetime | None
    due_window_end: datetime | None
    late_by: timedelta | None
    failure_streak: int | None
    newest_row: datetime | None
    data_age: timedelta | None
    max_data_age: timedelta
    stale: bool | None
    open_retrain_requests: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times in ISO 8601, durations in seconds."""
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        def seconds(span: timedelta | None) -> float | None:
            return span.total_seconds() if span is not None else None

        return {"model": self.model, "status": "ok" if self.healthy else "unhealthy", "problems": self.problems,
                "last_verdict": self.last_verdict, "last_window_end": iso(self.last_window_end),
                "last_success": iso(self.last_success), "due_window_end": iso(self.due_window_end),
                "late_by_seconds": seconds(self.late_by), "failure_streak": self.failure_streak,
                "data": {"newest_row": iso(self.newest_row), "age_seconds": seconds(self.data_age),
                         "max_age": str(self.max_data_age), "stale": self.stale},
                "open_retrain_requests": self.open_retrain_requests}


def failure_streak(runs: list[MonitorRun]) -> int:
    """Finished runs that failed or crashed in a row, newest first; cancelled and unfinished runs are skipped."""
    streak = 0
    for run in runs:
        if run.state_type in UNFINISHED or run.state_type == "CANCELLED":
            continue
        if run.state_type not in FAILED:
            break
        streak += 1
    return streak


def late_runs(runs: list[MonitorRun], due_before: datetime) -> list[MonitorRun]:
    """Runs that should have finished by now (due before `due_before`) but have not: no worker, or hanging."""
    return [r for r in runs if r.state_type in UNFINISHED and r.expected_start < due_before]


def max_data_age(config: ModelConfig, due_end: datetime) -> timedelta:
    """`health.max_data_age`, or the length of the window ending at `due_end`."""
    return config.health.max_data_age or (due_end - window_start(config, due_end))


def assess_health(config: ModelConfig, inputs: HealthInputs) -> HealthReport:
    """The model's health and every problem in words."""
    health, now = config.health, inputs.now
    due = latest_window_end(config, now - health.grace)
    problems: list[str] = []
    expected = inputs.deployed_at is None or due >= inputs.deployed_at
    late_by = None
    if inputs.runs is not None and inputs.deployed_at is None:
        problems.append(f"not deployed: there is no deployment monitor/{config.name} (driftflow deploy)")
    if expected and inputs.deployed_at is not None and due not in inputs.recorded_ends:
        late_by = now - due
        problems.append(f"late: the window ending {due:%Y-%m-%d %H:%M} UTC is not recorded "
                        f"{_words(late_by)} after it was due (grace {health.grace})")
    for stuck in late_runs(inputs.runs or [], now - health.grace):
        late_by = max(late_by or timedelta(0), now - stuck.expected_start)
        problems.append(f"late: run {stuck.name} due {stuck.expected_start:%Y-%m-%d %H:%M:%S} UTC is still "
                        f"{stuck.state_name or stuck.state_type} {_words(now - stuck.expected_start)} later")
    streak = None if inputs.runs is None else failure_streak(inputs.runs)
    if streak is not None and streak >= health.failures:
        last = next(r for r in inputs.runs or [] if r.state_type in FAILED)
        problems.append(f"failing: the last {streak} monitor runs failed or crashed (latest {last.name}: "
                        f"{(last.message or last.state_name)[:200]})")
    allowed = max_data_age(config, due)
    age = now - inputs.newest_row if inputs.newest_row else None
    stale: bool | None = None
    if inputs.freshness_error:
        problems.append(f"source unreadable: {inputs.freshness_error}")
    elif inputs.newest_row is None:
        stale = True
        problems.append("stale: the source has no rows")
    else:
        stale = bool(age and age > allowed)
        if stale:
            problems.append(f"stale: the newest source row is from {inputs.newest_row:%Y-%m-%d %H:%M} UTC, "
                            f"{_words(age)} old (allowed {_words(allowed)})")
    successes = [r.end for r in inputs.runs or [] if r.state_type == "COMPLETED" and r.end]
    newest_window = inputs.last_window or {}
    return HealthReport(
        model=config.name, healthy=not problems, problems=problems, last_verdict=newest_window.get("status"),
        last_window_end=newest_window.get("window_end"), last_success=max(successes) if successes else None,
        due_window_end=due if expected else None, late_by=late_by, failure_streak=streak,
        newest_row=inputs.newest_row, data_age=age, max_data_age=allowed, stale=stale,
        open_retrain_requests=inputs.open_requests)


def _words(span: timedelta | None) -> str:
    if span is None:
        return "unknown"
    total = int(span.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {rest // 60}m"
    return f"{rest // 60}m {rest % 60}s"
