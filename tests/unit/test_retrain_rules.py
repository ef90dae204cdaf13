"""The retrain request gate and the promotion gate: pure rules, no Prefect or database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tasks.retrain.challenger import Comparison
from tasks.retrain.promotion import decide_promotion
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


def comparison(challenger: float | None, champion: float | None, *, higher: bool = True,
               version: int | None = 1) -> Comparison:
    return Comparison("roc_auc" if higher else "rmse", 6000, challenger, champion, version, higher)


@pytest.mark.parametrize(("challenger", "champion", "min_gain", "promote"), [
    (0.70, 0.65, 0.0, True),
    (0.65, 0.70, 0.0, False),   # worse
    (0.70, 0.70, 0.0, False),   # equal is not better
    (0.70, 0.68, 0.02, False),  # gain must exceed the margin
    (0.71, 0.68, 0.02, True),
])
def test_promotion_needs_a_gain_above_the_margin(challenger: float, champion: float, min_gain: float,
                                                 promote: bool) -> None:
    """Only a challenger that beats the champion on the same holdout by more than min_gain is promoted."""
    decision = decide_promotion.fn(comparison(challenger, champion), min_gain)
    assert decision.promote is promote
    assert decision.reason.startswith("promoted" if promote else "rejected")


def test_for_an_error_metric_lower_is_better() -> None:
    """With rmse a smaller challenger error is the gain."""
    assert decide_promotion.fn(comparison(9.0, 10.0, higher=False), 0.5).promote
    assert not decide_promotion.fn(comparison(11.0, 10.0, higher=False), 0.0).promote


def test_without_a_champion_the_challenger_is_promoted() -> None:
    assert decide_promotion.fn(comparison(0.6, None, version=None), 0.0).promote


def test_an_unscorable_challenger_is_rejected() -> None:
    assert not decide_promotion.fn(comparison(None, 0.7), 0.0).promote
