"""Turn a drift verdict into at most one retraining: events, idempotency, cooldown, one at a time.

The request is committed as `requested` (with the gate's decision) before any delivery is tried, and
delivered through the outbox (`tasks/retrain/outbox.py`): a delivery error leaves it to be redelivered, never
lost and never half-accepted. Its later states are moved by the retrain flow through `tasks/retrain/requests.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from tasks.config import ModelConfig
from tasks.db import as_utc, utc_naive
from tasks.results import Verdict, Window
from tasks.retrain.outbox import Sender, deliver, send_to_deployment, settle_request
from tasks.retrain.requests import RequestDecision, gate_request, move, read_request, transition
from tasks.retries import STORE_OUTAGE
from tasks.store.schema import model_events, retrain_requests

OVERRIDE_EVENT = "cooldown_override"  # model_events.event of a cooldown overridden by a severe verdict


def request_key(model: str, window_end: datetime) -> str:
    """One retrain request per model and triggering window."""
    return f"{model}/{as_utc(window_end).strftime('%Y-%m-%dT%H:%M')}"


def model_resource(model: str) -> dict[str, str]:
    return {"prefect.resource.id": f"driftflow.model.{model}", "prefect.resource.name": model}


def _lock_model(conn: sa.Connection, model: str) -> None:
    """Serialise request decisions per model across processes (advisory lock; SQLite: write lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"driftflow:{model}"})
    else:
        conn.execute(sa.update(retrain_requests).where(sa.false()).values(status="requested"))


def decide_request(config: ModelConfig, window: Window, verdict: Verdict,
                   previous: list[dict[str, Any]], refusal: str | None = None) -> RequestDecision:
    """The gate with the model's policy; a model without `retraining:` is monitored only and never retrains, and
    `refusal` (the window's predictions come from a version the champion already replaces) refuses at once."""
    if config.retraining is None:
        return RequestDecision(False, "refused: a monitor-only model (no `retraining:` section)")
    if refusal is not None:
        return RequestDecision(False, refusal)
    return gate_request(window_end=as_utc(window.end), interval=window.end - window.start,
                        cooldown=config.policy.cooldown, failure_backoff=config.retraining.failure_backoff,
                        previous=previous, severe=verdict.severe,
                        severe_overrides=config.policy.severe.overrides_cooldown,
                        severe_reason="; ".join(verdict.reasons))


@task(name="request-retraining", cache_policy=NO_CACHE, **STORE_OUTAGE)
def request_retraining(store: sa.Engine, config: ModelConfig, window: Window, verdict: Verdict,
                       send: Sender = send_to_deployment, refusal: str | None = None) -> dict[str, Any]:
    """Record the drift and request `retrain/<model>` once for this window, unless the policy (or `refusal`,
    see `decide_request`) refuses.

    Running the same window again returns the same request, and redelivers it if it is still undelivered.
    """
    key = request_key(config.name, window.end)
    reason = "; ".join(verdict.reasons)
    with store.begin() as conn:
        _lock_model(conn, config.name)
        existing = read_request(conn, key)
        if existing is None:
            previous = [dict(r._mapping) for r in conn.execute(
                sa.select(retrain_requests).where(retrain_requests.c.model == config.name))]
            gate = decide_request(config, window, verdict, previous, refusal)
            now = utc_naive(datetime.now(UTC))
            conn.execute(sa.insert(retrain_requests).values(
                idempotency_key=key, model=config.name, window_end=utc_naive(window.end),
                status="requested" if gate.accept else "refused", reason=reason, decision=gate.decision,
                requested_at=now, severe=verdict.severe, override=gate.override,
                finished_at=None if gate.accept else now))
            if gate.override:
                conn.execute(sa.insert(model_events).values(
                    model=config.name, event=OVERRIDE_EVENT, version=None, previous_version=None,
                    window_end=utc_naive(window.end), at=now, reason=gate.override))
    row = deliver(store, key, send)
    if row.get("status") == "delivered" and (existing is None or existing["status"] == "requested"):
        emit_event(event="driftflow.retrain.requested", resource=model_resource(config.name),
                   payload={"window_end": window.end.isoformat(), "flow_run_id": row.get("flow_run_id"),
                            "reason": reason})
    return row


def start_request(store: sa.Engine, key: str | None, flow_run_id: str | None) -> None:
    """The retrain run began: `running`. A run that exists was delivered, even if its delivery was not recorded
    yet (the sweeper that created it may not have committed), so a `requested` request passes `delivered`."""
    if not key:
        return
    with store.begin() as conn:
        row = read_request(conn, key)
        if row is not None and row["status"] == "requested":
            transition(conn, key, "delivered", flow_run_id=flow_run_id)
        transition(conn, key, "running", flow_run_id=flow_run_id)


def finish_request(store: sa.Engine, key: str | None, status: str, decision: str,
                   challenger_version: int | None = None) -> None:
    """Close a running request: promoted, rejected or failed, with the decision in words."""
    if key:
        move(store, key, status, decision=decision, challenger_version=challenger_version)


def fail_request(store: sa.Engine, key: str | None, message: str) -> str | None:
    """A retrain run failed or crashed: close its request from the registry's evidence (see `settle_request`)."""
    return settle_request(store, key, message)


def requests_of(store: sa.Engine, model: str) -> list[dict[str, Any]]:
    """Every retrain request of a model, oldest window first."""
    with store.connect() as conn:
        rows = conn.execute(sa.select(retrain_requests).where(retrain_requests.c.model == model)
                            .order_by(retrain_requests.c.window_end, retrain_requests.c.requested_at))
        return [dict(r._mapping) for r in rows]
