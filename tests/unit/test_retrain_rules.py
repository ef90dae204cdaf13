"""The retrain request gate: pure rules in window time, no Prefect or database (the promotion gate:
tests/unit/test_gate.py; the request states: tests/flows/test_retrain_requests.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tasks.retrain.requests import consecutive_failures, gate_request
from tasks.retrain.trigger import request_key

WEEK = datetime(2013, 5, 6, 6, tzinfo=UTC)
DAY = timedelta(days=1)


def request(status: str, window_end: datetime) -> dict[str, Any]:
    return {"status": status, "window_end": window_end}


def gate(previous: list[dict[str, Any]], cooldown_days: int = 14, window_end: datetime = WEEK,
         backoff_days: int = 1, severe: bool = False, overrides: bool = True) -> str:
    decision = gate_request(window_end=window_end, interval=timedelta(days=7), cooldown=cooldown_days * DAY,
                            failure_backoff=backoff_days * DAY, previous=previous, severe=severe,
                            severe_overrides=overrides, severe_reason="roc_auc fell 0.2")
    return decision.decision


def test_the_first_request_is_accepted() -> None:
    """A model that never retrained gets its retraining."""
    assert gate([]) == "accepted"


@pytest.mark.parametrize("status", ["requested", "delivered", "running"])
@pytest.mark.parametrize("offset_days", [-7, 0, 7])
def test_an_open_request_within_one_window_is_in_progress(status: str, offset_days: int) -> None:
    """An open request of this window or a neighbouring one refuses the next, whatever the cooldown."""
    decision = gate([request(status, WEEK + offset_days * DAY)], cooldown_days=0)
    assert decision.startswith("refused: a retraining is already in progress")


@pytest.mark.parametrize("status", ["requested", "delivered", "running"])
def test_an_open_request_of_a_window_long_past_is_not_in_progress(status: str) -> None:
    """In window time a request two windows back is no longer "in progress": years-old requests never block."""
    assert gate([request(status, WEEK - 14 * DAY)], cooldown_days=0) == "accepted"
    assert gate([request(status, WEEK - 3 * 365 * DAY)]) == "accepted"


@pytest.mark.parametrize("status", ["promoted", "rejected", "delivered"])
def test_cooldown_counts_from_the_last_retraining_window(status: str) -> None:
    """Within the cooldown after a retraining the next request is refused, naming the window."""
    decision = gate([request(status, WEEK - 10 * DAY)])
    assert decision.startswith("refused: cooldown of 14d")
    assert "2013-04-26 06:00" in decision


def test_cooldown_ends_exactly_after_its_length() -> None:
    """A request exactly one cooldown after the last one is accepted."""
    assert gate([request("promoted", WEEK - 14 * DAY)]) == "accepted"


def test_a_refused_request_does_not_start_a_cooldown() -> None:
    assert gate([request("refused", WEEK - 7 * DAY)]) == "accepted"


def test_a_later_window_does_not_cool_down_an_earlier_backfilled_one() -> None:
    """Cooldown looks back in window time only: a backfill of an older window is not refused by a newer one."""
    assert gate([request("promoted", WEEK + 14 * DAY)]) == "accepted"


def test_a_failed_retraining_backs_off_doubling_per_failure_in_a_row() -> None:
    """A broken trainer is not retried on every drift window: 1d, then 2d, 4d, 8d after failures in a row."""
    one = [request("failed", WEEK - 7 * DAY)]
    assert gate(one, backoff_days=8).startswith("refused: back-off of 8d after 1 failed")
    assert gate(one, backoff_days=7) == "accepted"
    three = [request("failed", WEEK - n * 7 * DAY) for n in (1, 2, 3)]
    assert gate(three, backoff_days=2).startswith("refused: back-off of 8d after 3 failed")
    assert gate(three, backoff_days=1) == "accepted"  # 4d back-off is over a week later


def test_a_success_ends_the_failure_streak() -> None:
    previous = [request("failed", WEEK - 63 * DAY), request("failed", WEEK - 56 * DAY),
                request("rejected", WEEK - 49 * DAY), request("failed", WEEK - 7 * DAY)]
    assert consecutive_failures(previous, WEEK) == [WEEK - 7 * DAY]
    assert gate(previous, backoff_days=2) == "accepted"


def test_a_failure_counts_only_as_its_back_off_not_the_full_cooldown() -> None:
    assert gate([request("failed", WEEK - 7 * DAY)], cooldown_days=30) == "accepted"


def test_a_severe_breach_overrides_the_cooldown_and_says_why() -> None:
    decision = gate_request(window_end=WEEK, interval=7 * DAY, cooldown=14 * DAY, failure_backoff=DAY,
                            previous=[request("promoted", WEEK - 7 * DAY)], severe=True, severe_overrides=True,
                            severe_reason="roc_auc fell 0.2")
    assert decision.accept
    assert decision.override is not None
    assert decision.override.startswith("severe breach overrides the cooldown of 14d")
    assert "roc_auc fell 0.2" in decision.override


def test_a_severe_breach_overrides_nothing_when_the_policy_says_so() -> None:
    decision = gate([request("promoted", WEEK - 7 * DAY)], severe=True, overrides=False)
    assert decision.startswith("refused: cooldown")


@pytest.mark.parametrize("previous", [[request("running", WEEK - 7 * DAY)], [request("failed", WEEK - DAY)]])
def test_a_severe_breach_overrides_neither_a_retraining_in_progress_nor_the_back_off(
        previous: list[dict[str, Any]]) -> None:
    assert gate(previous, severe=True, backoff_days=7).startswith("refused")


def test_the_idempotency_key_names_model_and_window() -> None:
    assert request_key("flights-delay", WEEK) == "flights-delay/2013-05-06T06:00"
