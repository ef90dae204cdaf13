"""Replay a model's history with actions, as production would have run it: each window scored by the champion
of its time (where that model can score; else its logged predictions), and each accepted retrain run here, to
completion, before the next window is monitored. No worker and no `serve` are needed, and nothing depends on
how fast a delivery travels, so two replays of the same history decide the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flows.monitor import monitor
from flows.retrain import retrain
from tasks.config import load_model_config
from tasks.db import as_utc, utc_naive
from tasks.errors import StateConflict
from tasks.retrain.outbox import deliver_in_process
from tasks.retrain.replay_summary import ReplaySummary, summarize_replay
from tasks.retrain.trigger import fail_request
from tasks.store.engine import open_store
from tasks.store.schema import retrain_requests
from tasks.store.windows import recorded_ends


def replay_history(model: str, ends: list[datetime],
                   progress: Callable[[dict[str, Any]], None] = lambda _window: None
                   ) -> tuple[list[dict[str, Any]], ReplaySummary]:
    """Monitor each window with actions; run the retrains it accepted before the next; summarise."""
    store = open_store()
    refuse_recorded(store, model, ends)
    windows: list[dict[str, Any]] = []
    with deliver_in_process():
        for window_end in ends:
            windows.append(dict(monitor(model=model, window_end=window_end, actions=True,  # type: ignore[call-overload]
                                        replay=True)))
            run_delivered(store, model, window_end)
            progress(windows[-1])
    return windows, summarize_replay(store, load_model_config(model), ends)


def refuse_recorded(store: sa.Engine, model: str, ends: list[datetime]) -> None:
    """A replay never rewrites recorded windows. They were decided by the champions of their time (production's,
    or an earlier replay's, whose promotions the registry now holds): replayed again from today's registry they
    would be decided by other models, and two replays of one history would differ."""
    recorded = recorded_ends(store, model, ends)
    if recorded:
        span = f"{recorded[0]:%Y-%m-%d %H:%M}" + (f" to {recorded[-1]:%Y-%m-%d %H:%M}" if len(recorded) > 1 else "")
        raise StateConflict(
            f"{model}: {len(recorded)} of the {len(ends)} windows to replay are already recorded ({span}); a "
            "replay does not rewrite them. Replay into a fresh store (another DRIFTFLOW_HOME or "
            "DRIFTFLOW_STORE_URL) or over windows not recorded yet; `backfill` without --actions reruns "
            "recorded windows as they were served")


def run_delivered(store: sa.Engine, model: str, up_to: datetime) -> list[str]:
    """Run, here and in window order, every retrain delivered in process for a window up to `up_to`."""
    with store.connect() as conn:
        rows = conn.execute(sa.select(retrain_requests).where(
            retrain_requests.c.model == model, retrain_requests.c.status == "delivered",
            retrain_requests.c.flow_run_id.is_(None), retrain_requests.c.window_end <= utc_naive(up_to))
            .order_by(retrain_requests.c.window_end)).all()
    ran = []
    for row in rows:
        try:
            retrain(model=model, window_end=as_utc(row.window_end), reason=row.reason,
                    request_key=row.idempotency_key)
        except Exception as exc:  # a failed retrain is an outcome of the replay, not its end
            fail_request(store, row.idempotency_key, f"retrain run failed: {exc}")
        ran.append(row.idempotency_key)
    return ran
