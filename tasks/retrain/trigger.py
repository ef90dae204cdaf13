"""Turn a drift verdict into at most one retraining: events, idempotency, cooldown, one at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from tasks.config import ModelConfig
from tasks.db import as_utc, utc_naive
from tasks.results import Verdict, Window
from tasks.store.schema import retrain_requests

IN_FLIGHT = ("accepted", "running")
COUNTS_FOR_COOLDOWN = ("accepted", "running", "promoted", "rejected")
STALE_AFTER = timedelta(hours=6)  # an in-flight request older than this (wall clock) no longer blocks


@dataclass(frozen=True)
class RequestDecision:
    accept: bool
    decision: str


def request_key(model: str, window_end: datetime) -> str:
    """One retrain request per model and triggering window."""
    return f"{model}/{as_utc(window_end).strftime('%Y-%m-%dT%H:%M')}"


def model_resource(model: str) -> dict[str, str]:
    return {"prefect.resource.id": f"driftflow.model.{model}", "prefect.resource.name": model}


def gate_request(*, window_end: datetime, cooldown: timedelta, previous: list[dict[str, Any]],
                 now: datetime) -> RequestDecision:
    """Accept, or refuse with the reason: another retraining in flight, or the cooldown since the last one.

    Cooldown is measured in window time (scheduled times), so backfills and replays decide the same way.
    """
    for row in previous:
        if row["status"] in IN_FLIGHT and now - as_utc(row["requested_at"]) < STALE_AFTER:
            return RequestDecision(False, f"refused: a retraining is already in progress (requested for the "
                                          f"window ending {as_utc(row['window_end']):%Y-%m-%d %H:%M})")
    recent = [as_utc(r["window_end"]) for r in previous if r["status"] in COUNTS_FOR_COOLDOWN
              and as_utc(r["window_end"]) <= window_end]
    if recent and window_end - max(recent) < cooldown:
        last = max(recent)
        return RequestDecision(False, f"refused: cooldown of {cooldown.days}d since the retraining requested "
                                      f"for the window ending {last:%Y-%m-%d %H:%M}")
    return RequestDecision(True, "accepted")


def _lock_model(conn: sa.Connection, model: str) -> None:
    """Serialise request decisions per model across processes (advisory lock; SQLite: write lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"driftflow:{model}"})
    else:
        conn.execute(sa.update(retrain_requests).where(sa.false()).values(status="accepted"))


def _row(conn: sa.Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(retrain_requests).where(retrain_requests.c.idempotency_key == key)).first()
    return dict(row._mapping) if row else None


@task(name="request-retraining", cache_policy=NO_CACHE)
def request_retraining(store: sa.Engine, config: ModelConfig, window: Window, verdict: Verdict) -> dict[str, Any]:
    """Record the drift and request `retrain/<model>` once for this window, unless the policy refuses."""
    key = request_key(config.name, window.end)
    reason = "; ".join(verdict.reasons)
    with store.begin() as conn:
        _lock_model(conn, config.name)
        existing = _row(conn, key)
        if existing is not None:
            return existing  # the same window ran again: same request, nothing new
        previous = [dict(r._mapping) for r in conn.execute(
            sa.select(retrain_requests).where(retrain_requests.c.model == config.name))]
        now = datetime.now(UTC)
        gate = gate_request(window_end=window.end, cooldown=config.policy.cooldown, previous=previous, now=now)
        conn.execute(sa.insert(retrain_requests).values(
            idempotency_key=key, model=config.name, window_end=utc_naive(window.end),
            status="accepted" if gate.accept else "refused", reason=reason, decision=gate.decision,
            requested_at=utc_naive(now)))
    emit_event(event="driftflow.drift.detected", resource=model_resource(config.name),
               payload={"window_end": window.end.isoformat(), "reasons": verdict.reasons,
                        "drifted_columns": verdict.drifted_columns, "retrain": gate.decision})
    if gate.accept:
        _deliver(store, config, window, key, reason, now)
    with store.connect() as conn:
        return _row(conn, key) or {}


def _deliver(store: sa.Engine, config: ModelConfig, window: Window, key: str, reason: str,
             requested_at: datetime) -> None:
    """Create the `retrain/<model>` deployment run and note its id.

    Prefect's idempotency key is the request row's (key and time): a retried delivery of the same request
    finds the same run, while a request recorded anew for the window (after the store was reset) gets a new
    run rather than an old, finished one.
    """
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    name = f"retrain/{config.name}"
    try:
        run: FlowRun = run_deployment(name=name, timeout=0, as_subflow=False,
                                      idempotency_key=f"{key}@{requested_at.isoformat()}",
                             parameters={"model": config.name, "window_end": window.end.isoformat(),
                                         "reason": reason, "request_key": key},
                             tags=[f"model:{config.name}"])  # type: ignore[assignment]
    except ObjectNotFound:
        finish_request(store, key, "undeliverable",
                       f"no deployment {name}: register it with `driftflow deploy` or `driftflow serve`")
        return
    with store.begin() as conn:
        conn.execute(sa.update(retrain_requests).where(retrain_requests.c.idempotency_key == key)
                     .values(flow_run_id=str(run.id)))
    emit_event(event="driftflow.retrain.requested", resource=model_resource(config.name),
               payload={"window_end": window.end.isoformat(), "flow_run_id": str(run.id), "reason": reason})


def start_request(store: sa.Engine, key: str | None, flow_run_id: str | None) -> None:
    if key:
        with store.begin() as conn:
            conn.execute(sa.update(retrain_requests).where(retrain_requests.c.idempotency_key == key)
                         .values(status="running", flow_run_id=flow_run_id))


def finish_request(store: sa.Engine, key: str | None, status: str, decision: str,
                   challenger_version: int | None = None) -> None:
    """Close a request: promoted, rejected, failed or undeliverable, with the decision in words."""
    if key:
        with store.begin() as conn:
            conn.execute(sa.update(retrain_requests).where(retrain_requests.c.idempotency_key == key).values(
                status=status, decision=decision, challenger_version=challenger_version,
                finished_at=utc_naive(datetime.now(UTC))))


def requests_of(store: sa.Engine, model: str) -> list[dict[str, Any]]:
    """Every retrain request of a model, oldest window first."""
    with store.connect() as conn:
        rows = conn.execute(sa.select(retrain_requests).where(retrain_requests.c.model == model)
                            .order_by(retrain_requests.c.window_end, retrain_requests.c.requested_at))
        return [dict(r._mapping) for r in rows]
