"""Health of a model's monitor, assessed from its runs, records and source: each problem named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tasks.config import ModelConfig, load_model_config
from tasks.ops.health import HealthInputs, MonitorRun, assess_health, failure_streak

MONDAY = datetime(2026, 11, 23, 6, tzinfo=UTC)  # a tick of the demo model's weekly cron (Mondays 06:00 UTC)


@pytest.fixture()
def config() -> ModelConfig:
    return load_model_config("flights-delay")


def run(state: str, hours_ago: float, name: str = "flights-delay 2026-11-23T06:00",
        message: str | None = None) -> MonitorRun:
    at = MONDAY - timedelta(hours=hours_ago)
    return MonitorRun(name=name, expected_start=at, state_type=state, state_name=state.capitalize(),
                      end=at + timedelta(minutes=1), message=message)


def healthy_inputs(now: datetime, **changes: object) -> HealthInputs:
    values: dict[str, object] = {
        "now": now, "last_window": {"window_end": MONDAY, "status": "ok"}, "recorded_ends": frozenset({MONDAY}),
        "runs": [run("COMPLETED", 0)], "deployed_at": MONDAY - timedelta(days=60),
        "newest_row": now - timedelta(hours=2), "open_requests": []}
    values.update(changes)
    return HealthInputs(**values)  # type: ignore[arg-type]


def test_a_recorded_due_window_fresh_data_and_completed_runs_are_healthy(config: ModelConfig) -> None:
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(hours=3)))
    assert report.healthy and report.problems == []
    assert report.last_verdict == "ok" and report.due_window_end == MONDAY
    assert report.failure_streak == 0 and report.stale is False
    assert report.last_success == MONDAY + timedelta(minutes=1)
    assert report.as_dict()["status"] == "ok"


def test_the_due_window_is_not_late_within_the_grace(config: ModelConfig) -> None:
    """Thirty minutes after the tick (grace 1h) the previous week's window is the one due, and it is recorded."""
    previous = MONDAY - timedelta(days=7)
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(minutes=30),
                                                  recorded_ends=frozenset({previous}),
                                                  last_window={"window_end": previous, "status": "ok"}))
    assert report.healthy and report.due_window_end == previous


def test_a_window_not_recorded_past_the_grace_is_late(config: ModelConfig) -> None:
    """Two hours after the tick, with last week's window the newest recorded, the monitor is late by two hours."""
    previous = MONDAY - timedelta(days=7)
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(hours=2), recorded_ends=frozenset({previous})))
    assert not report.healthy
    assert report.late_by == timedelta(hours=2)
    assert report.problems == ["late: the window ending 2026-11-23 06:00 UTC is not recorded 2h 0m after it was "
                               "due (grace 1:00:00)"]


def test_ticks_before_the_deployment_existed_are_not_expected(config: ModelConfig) -> None:
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(hours=2), recorded_ends=frozenset(),
                                                  deployed_at=MONDAY + timedelta(hours=1)))
    assert report.healthy and report.due_window_end is None


def test_a_model_without_a_deployment_is_named_as_such(config: ModelConfig) -> None:
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(hours=2), runs=[], deployed_at=None))
    assert report.problems == ["not deployed: there is no deployment monitor/flights-delay (driftflow deploy)"]


def test_failures_in_a_row_up_to_the_limit_make_it_failing(config: ModelConfig) -> None:
    """Three failed or crashed runs in a row (health.failures defaults to 3) are a problem naming the latest."""
    runs = [run("SCHEDULED", -168), run("CRASHED", 0, message="worker lost"), run("FAILED", 168),
            run("CANCELLED", 200), run("FAILED", 336), run("COMPLETED", 504)]
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(hours=3), runs=runs))
    assert report.failure_streak == 3
    assert report.problems == ["failing: the last 3 monitor runs failed or crashed (latest flights-delay "
                               "2026-11-23T06:00: worker lost)"]


def test_a_success_breaks_the_streak() -> None:
    assert failure_streak([run("FAILED", 0), run("COMPLETED", 168), run("FAILED", 336), run("FAILED", 504)]) == 1
    assert failure_streak([]) == 0


def test_without_prefect_the_streak_is_unknown_not_zero(config: ModelConfig) -> None:
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(hours=3), runs=None, deployed_at=None))
    assert report.failure_streak is None and report.healthy


def test_data_older_than_one_window_is_stale(config: ModelConfig) -> None:
    """Without health.max_data_age, the newest source row may be one window (7 days) old."""
    now = MONDAY + timedelta(hours=3)
    fine = assess_health(config, healthy_inputs(now, newest_row=now - timedelta(days=6)))
    stale = assess_health(config, healthy_inputs(now, newest_row=now - timedelta(days=8)))
    assert fine.stale is False and fine.max_data_age == timedelta(days=7)
    assert stale.stale is True
    assert stale.problems == ["stale: the newest source row is from 2026-11-15 09:00 UTC, 8d 0h old (allowed 7d 0h)"]


def test_an_explicit_max_data_age_wins(config: ModelConfig) -> None:
    strict = config.model_copy(update={"health": config.health.model_copy(update={"max_data_age": timedelta(
        hours=6)})})
    now = MONDAY + timedelta(hours=3)
    assert assess_health(strict, healthy_inputs(now, newest_row=now - timedelta(hours=7))).stale is True


def test_an_empty_or_unreadable_source_is_a_problem(config: ModelConfig) -> None:
    now = MONDAY + timedelta(hours=3)
    empty = assess_health(config, healthy_inputs(now, newest_row=None))
    broken = assess_health(config, healthy_inputs(now, newest_row=None, freshness_error="warehouse x: down"))
    assert empty.problems == ["stale: the source has no rows"]
    assert broken.problems == ["source unreadable: warehouse x: down"] and broken.stale is None


def test_open_retrain_requests_are_reported(config: ModelConfig) -> None:
    pending = [{"key": "flights-delay/2026-11-23T06:00", "status": "running"}]
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(hours=3), open_requests=pending))
    assert report.healthy and report.as_dict()["open_retrain_requests"] == pending


def test_a_run_not_finished_past_the_grace_is_late(config: ModelConfig) -> None:
    """A run Prefect marked Late (no worker took it) two hours ago is named, with how late it is."""
    stuck = MonitorRun(name="flights-delay 2026-11-23T06:00", expected_start=MONDAY, state_type="SCHEDULED",
                       state_name="Late")
    report = assess_health(config, healthy_inputs(MONDAY + timedelta(hours=2), runs=[stuck, run("COMPLETED", 168)]))
    assert report.late_by == timedelta(hours=2)
    assert report.problems == ["late: run flights-delay 2026-11-23T06:00 due 2026-11-23 06:00:00 UTC is still Late "
                               "2h 0m later"]
    early = assess_health(config, healthy_inputs(MONDAY + timedelta(minutes=20), runs=[stuck],
                                                 recorded_ends=frozenset({MONDAY - timedelta(days=7)})))
    assert early.problems == []
