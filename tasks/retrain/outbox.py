"""Delivering retrain requests: an outbox swept on every monitor run and by `serve`, so nothing is lost.

A request is committed as `requested` first and delivered afterwards. A delivery that fails (no deployment,
Prefect unreachable, any error) leaves it `requested` with the attempt count, the error and the time of the
next attempt; `sweep_outbox` redelivers what is due. Prefect's idempotency key is the request's, so two
sweepers delivering the same request create one run, and only one of them records the `delivered` move.

Settling: a retrain run that died after registering its challenger (killed, crashed, its failure hook never
ran) leaves the request open while the registry already knows the outcome. The sweep (and the failure hook)
closes such a request from the registry's evidence, and finishes the re-baselining of a promoted champion, so
the request, the registry and the active reference end consistent. A run Prefect already reports as ended
(Crashed, Failed, Cancelled, or Completed without closing its request, say when the runner that would have run
the crash hook died with it) has its request closed from the registry the same way, `failed` if it registered
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tasks.db import as_utc, utc_naive
from tasks.retrain.requests import OPEN, IllegalTransition, read_request, transition
from tasks.store.schema import model_versions, retrain_requests

log = logging.getLogger(__name__)

Sender = Callable[[dict[str, Any]], str | None]  # delivers one request; returns the flow run id (None: in-process)
RunState = Callable[[str], str | None]  # a flow run's final state as "Crashed: <message>", None while it runs
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
_in_process: ContextVar[bool] = ContextVar("driftflow_retrain_in_process", default=False)


@contextmanager
def deliver_in_process() -> Iterator[None]:
    """Within this block requests are delivered to the caller, which runs them itself (`backfill --actions`)."""
    token = _in_process.set(True)
    try:
        yield
    finally:
        _in_process.reset(token)


def in_process() -> bool:
    return _in_process.get()


def send_to_deployment(row: dict[str, Any]) -> str | None:
    """Create the `retrain/<model>` deployment run of a request (or, in process, leave it to the caller)."""
    if in_process():
        return None
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    name = f"retrain/{row['model']}"
    try:
        run: FlowRun = run_deployment(  # type: ignore[assignment]
            name=name, timeout=0, as_subflow=False,
            idempotency_key=f"{row['idempotency_key']}@{as_utc(row['requested_at']).isoformat()}",
            parameters={"model": row["model"], "window_end": as_utc(row["window_end"]).isoformat(),
                        "reason": row["reason"], "request_key": row["idempotency_key"]},
            tags=[f"model:{row['model']}"])
    except ObjectNotFound as exc:
        raise LookupError(f"no deployment {name}: register it with `driftflow deploy` or `driftflow serve`") from exc
    return str(run.id)


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failed attempt, doubling, at most an hour (delivery is wall-clock business)."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


def deliver(store: sa.Engine, key: str, send: Sender = send_to_deployment) -> dict[str, Any]:
    """Try to deliver one `requested` request; returns its row as it then stands."""
    with store.connect() as conn:
        row = read_request(conn, key)
    if row is None or row["status"] != "requested":
        return row or {}
    now = datetime.now(UTC)
    try:
        run_id = send(row)
    except Exception as exc:  # any delivery error is recorded and retried, never lost
        attempts = row["attempts"] + 1
        with store.begin() as conn:
            conn.execute(sa.update(retrain_requests).where(
                retrain_requests.c.idempotency_key == key, retrain_requests.c.status == "requested").values(
                attempts=attempts, last_error=f"{type(exc).__name__}: {exc}"[:2000],
                next_attempt_at=utc_naive(now + retry_delay(attempts))))
        log.warning("retrain request %s not delivered (attempt %d): %s", key, attempts, exc)
    else:
        try:
            with store.begin() as conn:
                transition(conn, key, "delivered", flow_run_id=run_id, attempts=row["attempts"] + 1,
                           next_attempt_at=None, delivered_at=utc_naive(now))
        except IllegalTransition:
            pass  # another sweeper (or the run itself) recorded it first: the same run, by its idempotency key
    with store.connect() as conn:
        return read_request(conn, key) or {}


def ended_state(flow_run_id: str) -> str | None:
    """'Crashed: Process exited with status code -9' once Prefect reports the run final, else None (also when
    Prefect cannot be asked: the next sweep asks again)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(flow_run_id)).state
    except Exception as exc:  # unreachable, or a run Prefect no longer keeps: settled by a later sweep
        log.info("state of retrain run %s unknown: %s", flow_run_id, exc)
        return None
    if state is None or not state.is_final():
        return None
    return f"{state.name}: {state.message}" if state.message else str(state.name)


def sweep_outbox(store: sa.Engine, model: str | None = None, send: Sender = send_to_deployment,
                 now: datetime | None = None, run_state: RunState = ended_state) -> dict[str, int]:
    """Redeliver every due `requested` request and settle open ones whose outcome the registry already holds.

    Called at the start of every monitor run and periodically by `serve`. Returns what it did, counted.
    """
    now = now or datetime.now(UTC)
    query = sa.select(retrain_requests.c.idempotency_key).where(
        retrain_requests.c.status == "requested",
        sa.or_(retrain_requests.c.next_attempt_at.is_(None), retrain_requests.c.next_attempt_at <= utc_naive(now)))
    if model is not None:
        query = query.where(retrain_requests.c.model == model)
    with store.connect() as conn:
        due = list(conn.execute(query.order_by(retrain_requests.c.window_end)).scalars())
    counts = {"delivered": 0, "undelivered": 0, "settled": 0}
    for key in due:
        status = deliver(store, key, send).get("status")
        counts["delivered" if status == "delivered" else "undelivered"] += 1
    counts["settled"] = settle_open(store, model) + settle_ended(store, model, run_state)
    return counts


def settle_open(store: sa.Engine, model: str | None = None) -> int:
    """Close open requests whose challenger the registry already holds (their run died before closing them)."""
    query = (sa.select(retrain_requests.c.idempotency_key)
             .join(model_versions, model_versions.c.request_key == retrain_requests.c.idempotency_key)
             .where(retrain_requests.c.status.in_(("delivered", "running"))))
    if model is not None:
        query = query.where(retrain_requests.c.model == model)
    with store.connect() as conn:
        keys = sorted(set(conn.execute(query).scalars()))
    settled = 0
    for key in keys:
        settled += settle_request(store, key, "the retrain run ended without closing its request") is not None
    return settled


def settle_ended(store: sa.Engine, model: str | None, run_state: RunState) -> int:
    """Close open requests whose delivered run Prefect reports as ended."""
    query = sa.select(retrain_requests.c.idempotency_key, retrain_requests.c.flow_run_id).where(
        retrain_requests.c.status.in_(("delivered", "running")), retrain_requests.c.flow_run_id.is_not(None))
    if model is not None:
        query = query.where(retrain_requests.c.model == model)
    with store.connect() as conn:
        delivered = list(conn.execute(query))
    settled = 0
    for key, flow_run_id in delivered:
        state = run_state(flow_run_id)
        if state is not None:
            settled += settle_request(store, key, f"the retrain run ended {state}") is not None
    return settled


def settle_request(store: sa.Engine, key: str | None, failure: str) -> str | None:
    """Close an open request from what the registry holds for it; without a registered challenger, `failed`.

    Used by the retrain flow's failure hook and by the sweep. A request already final is left as it is (a late
    failure hook never overwrites `promoted`). Returns the state it was moved to, or None.
    """
    if not key:
        return None
    with store.begin() as conn:
        row = read_request(conn, key)
        if row is None or row["status"] not in OPEN:
            return None
        version = conn.execute(sa.select(model_versions).where(model_versions.c.request_key == key)
                               .order_by(model_versions.c.version.desc())).first()
        outcome, decision, number = _outcome(conn, version, failure)
        if row["status"] == "requested":
            transition(conn, key, "delivered")
        if outcome != "failed" and row["status"] != "running":
            transition(conn, key, "running")
        transition(conn, key, outcome, decision=decision, challenger_version=number)
    if outcome == "promoted" and version is not None and version.status == "champion":
        from tasks.registry.versions import rebaseline

        rebaseline(store, row["model"], as_utc(row["window_end"]))  # idempotent: the run may have died before it
    return outcome


def _outcome(conn: sa.Connection, version: sa.Row[Any] | None, failure: str) -> tuple[str, str, int | None]:
    """What the registry says the request came to: promoted, rejected, or failed (a challenger left unpromoted
    is turned down, so no `challenger` lingers in the registry)."""
    if version is None:
        return "failed", failure, None
    number, status = version.version, version.status
    if status in ("champion", "retired", "rolled_back"):
        return "promoted", f"v{number} promoted (settled after the run ended: {failure})", number
    if status == "challenger":
        conn.execute(sa.update(model_versions).where(
            model_versions.c.model == version.model, model_versions.c.version == number,
            model_versions.c.status == "challenger").values(status="rejected"))
        return "failed", f"v{number} was registered but never promoted: {failure}", number
    return "rejected", f"v{number} rejected (settled after the run ended: {failure})", number
