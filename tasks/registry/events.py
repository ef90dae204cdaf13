"""The model's life for the audit: registrations, promotions, rejections, watches and rollbacks in window time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from tasks.db import as_utc, utc_naive
from tasks.store.schema import model_events

ModelEvent = Literal["registered", "promoted", "rejected", "rolled_back", "kept"]


def record_event(conn: sa.Connection, model: str, event: ModelEvent, *, version: int | None,
                 previous_version: int | None, window_end: datetime | None, reason: str) -> None:
    """One `model_events` row, in the transaction of the change it records."""
    conn.execute(sa.insert(model_events).values(
        model=model, event=event, version=version, previous_version=previous_version,
        window_end=utc_naive(window_end) if window_end is not None else None,
        at=utc_naive(datetime.now(UTC)), reason=reason))


def events_of(engine: sa.Engine, model: str) -> list[dict[str, Any]]:
    """Every event of a model, in the order they were recorded."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(model_events).where(model_events.c.model == model)
                            .order_by(model_events.c.id))
        events = [dict(r._mapping) for r in rows]
    for event in events:
        event["window_end"] = as_utc(event["window_end"]) if event["window_end"] is not None else None
        event["at"] = as_utc(event["at"])
    return events
