"""The retrain request gate: pure rules, no Prefect or database (the promotion gate: tests/unit/test_gate.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tasks.retrain.trigger import gate_request, request_key

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WEEK = datetime(2013, 5, 6, 6, tzinfo=UTC)


def request(status: str, window_end: datetime, requested_at: datetime = NOW - timedelta(minutes=5)) -> dict[str, Any]:
    return {"status": status, "window_end": window_end, "requested_at": requested_at}


def gate(previous: list[dict[str, Any]], cooldown_days: int = 14, window_end: datetime = WEEK) -> str:
    decision = gate_request(window_end=window_end, cooldown=timedelta(days=cooldown_days), previous=previous, now=NOW)
    return decision.decision


def test_the_first_request_is_accepted() -> None:
    """A model that never retrained gets its retraining."""
    assert gate([]) == "accepted"


@pytest.mark.parametrize("status", ["accepted", "running"])
def test_a_retraining_in_flight_refuses_the_next(status: str) -> None:
    """While one retraining is queued or running, another request is refused, whatever the cooldown."""
    assert "already in progress" in gate([request(status, WEEK - timedelta(days=28))], cooldown_days=0)


def test_an_in_flight_request_older_than_six_hours_no_longer_blocks() -> None:
    """A request whose run vanished (worker died) stops blocking after six hours."""
    stale = request("accepted", WEEK - timedelta(days=28), requested_at=NOW - timedelta(hours=7))
    assert gate([stale]) == "accepted"


@pytest.mark.parametrize("status", ["promoted", "rejected"])
def test_cooldown_counts_from_the_last_retraining_window(status: str) -> None:
    """Within the cooldown after a finished retraining the next request is refused, naming the window."""
    decision = gate([request(status, WEEK - timedelta(days=7))])
    assert decision.startswith("refused: cooldown of 14d")
    assert "2013-04-29 06:00" in decision


def test_cooldown_ends_exactly_after_its_length() -> None:
    """A request exactly one cooldown after the last one is accepted."""
    assert gate([request("promoted", WEEK - timedelta(days=14))]) == "accepted"


@pytest.mark.parametrize("status", ["refused", "failed", "undeliverable"])
def test_requests_that_did_not_retrain_do_not_start_a_cooldown(status: str) -> None:
    """Refused, failed and undeliverable requests leave the next window free to retrain."""
    assert gate([request(status, WEEK - timedelta(days=7))]) == "accepted"


def test_a_later_window_does_not_cool_down_an_earlier_backfilled_one() -> None:
    """Cooldown looks back in window time only: a backfill of an older window is not refused by a newer one."""
    assert gate([request("promoted", WEEK + timedelta(days=7))]) == "accepted"


def test_the_idempotency_key_names_model_and_window() -> None:
    assert request_key("flights-delay", WEEK) == "flights-delay/2013-05-06T06:00"
