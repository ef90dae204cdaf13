"""Retrain requests as a guarded state machine, and the pure rules that accept or refuse a new one.

A request lives through `requested → delivered → running → promoted | rejected | failed`, or is `refused` when
it is recorded. Each move is one UPDATE that names the state it leaves (`WHERE status = predecessor`) and
checks it changed exactly one row, so a late failure hook can never turn a `promoted` request into `failed`,
and two processes cannot both start the same run.

The gate reads window time only (the ends of scheduled windows), never the wall clock: a replay of history
decides exactly as production would have, and an old request never blocks a new one "because it is in
progress" right now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tasks.db import as_utc, utc_naive
from tasks.errors import StateConflict
from tasks.store.schema import retrain_requests

OPEN = ("requested", "delivered", "running")
FINAL = ("promoted", "rejected", "failed", "refused")
RETRAINED = ("promoted", "rejected")  # a finished retraining: starts the full cooldown
# Each state and the states it may be entered from. `failed` may follow `delivered`: a run that crashed
# before its first step never reached `running`.
PREDECESSORS: dict[str, tuple[str, ...]] = {
    "delivered": ("requested",),
    "running": ("delivered",),
    "promoted": ("running",),
    "rejected": ("running",),
    "failed": ("delivered", "running"),
}
STAMPS = {"delivered": "delivered_at", "running": "started_at", "promoted": "finished_at",
          "rejected": "finished_at", "failed": "finished_at"}


class IllegalTransition(StateConflict):
    """A retrain request asked to move from a state that does not lead to the one requested."""


@dataclass(frozen=True)
class RequestDecision:
    accept: bool
    decision: str
    override: str | None = None  # why the cooldown was overridden, when it was


def transition(conn: sa.Connection, key: str, to: str, **values: Any) -> None:
    """Move request `key` to `to`, only from its predecessor, inside the caller's transaction."""
    allowed = PREDECESSORS.get(to)
    if allowed is None:
        raise IllegalTransition(f"retrain_requests.status: {to!r} is not a state a request can move to "
                                f"(request {key})")
    stamp = STAMPS[to]
    values.setdefault(stamp, utc_naive(datetime.now(UTC)))
    changed = conn.execute(sa.update(retrain_requests).where(
        retrain_requests.c.idempotency_key == key, retrain_requests.c.status.in_(allowed)).values(
        status=to, **values))
    if changed.rowcount != 1:
        current = conn.execute(sa.select(retrain_requests.c.status).where(
            retrain_requests.c.idempotency_key == key)).scalar()
        where = "does not exist" if current is None else f"is {current}"
        raise IllegalTransition(f"retrain_requests.status: request {key} {where}; it can become {to} only from "
                                f"{' or '.join(allowed)}")


def move(engine: sa.Engine, key: str, to: str, **values: Any) -> None:
    """`transition` in a transaction of its own."""
    with engine.begin() as conn:
        transition(conn, key, to, **values)


def read_request(conn: sa.Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(retrain_requests).where(retrain_requests.c.idempotency_key == key)).first()
    return dict(row._mapping) if row else None


def consecutive_failures(previous: list[dict[str, Any]], window_end: datetime) -> list[datetime]:
    """The window ends of the failed retrains in a row just before `window_end` (newest last)."""
    finished = sorted((as_utc(r["window_end"]), r["status"]) for r in previous
                      if r["status"] in ("failed", *RETRAINED) and as_utc(r["window_end"]) <= window_end)
    streak: list[datetime] = []
    for end, status in reversed(finished):
        if status != "failed":
            break
        streak.insert(0, end)
    return streak


def gate_request(*, window_end: datetime, interval: timedelta, cooldown: timedelta, failure_backoff: timedelta,
                 previous: list[dict[str, Any]], severe: bool = False, severe_overrides: bool = False,
                 severe_reason: str = "") -> RequestDecision:
    """Accept, or refuse with the reason, a retrain request for the window ending `window_end`.

    In window time only:
    - in progress: an open request (requested, delivered, running) whose window lies within one schedule
      `interval` of this one (either side) blocks it; one further away is not "in progress" for this window
      (a replay completes each retrain before the next window; in production an open request that old is
      stuck, and the outbox or the health report deals with it, not the gate);
    - cooldown: a retraining (open or finished) of an earlier or the same window less than `cooldown` ago;
      a later window never cools down an earlier, backfilled one;
    - failure back-off: after n failed retrains in a row, `failure_backoff * 2**(n-1)` from the last one;
    - a severe verdict overrides the cooldown (not the back-off, not an open request) when allowed.
    """
    for row in previous:
        if row["status"] in OPEN and abs(window_end - as_utc(row["window_end"])) <= interval:
            return RequestDecision(False, f"refused: a retraining is already in progress (requested for the "
                                          f"window ending {as_utc(row['window_end']):%Y-%m-%d %H:%M})")
    failures = consecutive_failures(previous, window_end)
    if failures:
        backoff = failure_backoff * 2 ** (len(failures) - 1)
        if window_end - failures[-1] < backoff:
            return RequestDecision(False, f"refused: back-off of {_span(backoff)} after {len(failures)} failed "
                                          f"retraining(s) in a row, the last for the window ending "
                                          f"{failures[-1]:%Y-%m-%d %H:%M}")
    recent = [as_utc(r["window_end"]) for r in previous
              if r["status"] in (*OPEN, *RETRAINED) and as_utc(r["window_end"]) <= window_end]
    if recent and window_end - max(recent) < cooldown:
        refusal = (f"cooldown of {_span(cooldown)} since the retraining requested for the window ending "
                   f"{max(recent):%Y-%m-%d %H:%M}")
        if severe and severe_overrides:
            override = f"severe breach overrides the {refusal}" + (f": {severe_reason}" if severe_reason else "")
            return RequestDecision(True, "accepted: " + override, override)
        return RequestDecision(False, "refused: " + refusal)
    return RequestDecision(True, "accepted")


def _span(duration: timedelta) -> str:
    """'14d', '36h', '90m': the way durations are written in the model YAML."""
    seconds = int(duration.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"
