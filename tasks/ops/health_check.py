"""Gathering what health is assessed from (the store, Prefect, the source) and announcing it as an event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import as_utc, redacted, warehouse_engine
from tasks.ops.health import HealthInputs, HealthReport, MonitorRun, assess_health
from tasks.settings import warehouse_url
from tasks.source.query import source_selectable
from tasks.store.schema import monitor_runs, retrain_requests

FINAL_REQUESTS = ("promoted", "rejected", "failed", "refused", "undeliverable", "superseded")
RECENT_WINDOWS = 20


def recorded_windows(store: sa.Engine, model: str) -> tuple[dict[str, Any] | None, frozenset[datetime]]:
    """The newest recorded window and the ends of the recent ones."""
    with store.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(monitor_runs.c.window_end, monitor_runs.c.status, monitor_runs.c.recorded_at)
            .where(monitor_runs.c.model == model).order_by(monitor_runs.c.window_end.desc()).limit(RECENT_WINDOWS))]
    for row in rows:
        row["window_end"], row["recorded_at"] = as_utc(row["window_end"]), as_utc(row["recorded_at"])
    return (rows[0] if rows else None), frozenset(r["window_end"] for r in rows)


def open_requests(store: sa.Engine, model: str) -> list[dict[str, Any]]:
    """Retrain requests of the model that have not reached a final state."""
    with store.connect() as conn:
        rows = conn.execute(sa.select(retrain_requests.c.idempotency_key, retrain_requests.c.status,
                                      retrain_requests.c.window_end, retrain_requests.c.requested_at)
                            .where(retrain_requests.c.model == model,
                                   retrain_requests.c.status.not_in(FINAL_REQUESTS))
                            .order_by(retrain_requests.c.window_end))
        return [{"key": r.idempotency_key, "status": r.status, "window_end": as_utc(r.window_end).isoformat(),
                 "requested_at": as_utc(r.requested_at).isoformat()} for r in rows]


def newest_source_row(config: ModelConfig) -> tuple[datetime | None, str | None]:
    """(newest timestamp in UTC, None) or (None, why the source could not be read)."""
    url = warehouse_url()
    ts: sa.ColumnClause[Any] = sa.column(config.source.timestamp)
    try:
        with warehouse_engine(url).connect() as conn:
            value = conn.execute(sa.select(sa.func.max(ts)).select_from(source_selectable(config))).scalar()
    except sa.exc.SQLAlchemyError as exc:
        return None, f"warehouse {redacted(url)}: {type(exc).__name__}: {str(getattr(exc, 'orig', exc))[:200]}"
    if value is None:
        return None, None
    moment = pd.Timestamp(value)
    if moment.tzinfo is None:
        moment = moment.tz_localize(config.source.timezone)
    return moment.tz_convert("UTC").to_pydatetime(), None


def monitor_runs_of(model: str, limit: int = 50) -> tuple[list[MonitorRun] | None, datetime | None]:
    """The newest runs of `monitor/<model>` and when the deployment was created; (None, None) without Prefect;
    ([], None) when Prefect answers but the deployment does not exist."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            try:
                deployment = client.read_deployment_by_name(f"monitor/{model}")
            except ObjectNotFound:
                return [], None
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=limit)
    except (httpx.HTTPError, OSError, RuntimeError):
        return None, None
    return [MonitorRun(name=r.name,
                       expected_start=as_utc(r.expected_start_time or r.created or datetime.now(UTC)),
                       state_type=r.state.type.value if r.state else "SCHEDULED",
                       state_name=(r.state.name or "") if r.state else "",
                       end=as_utc(r.end_time) if r.end_time else None,
                       message=r.state.message if r.state else None) for r in runs], \
        as_utc(deployment.created) if deployment.created else None


def check_health(store: sa.Engine, config: ModelConfig, now: datetime | None = None) -> HealthReport:
    """Gather the model's runs, records and source freshness, and assess them."""
    last, ends = recorded_windows(store, config.name)
    runs, deployed_at = monitor_runs_of(config.name)
    newest, error = newest_source_row(config)
    return assess_health(config, HealthInputs(
        now=now or datetime.now(UTC), last_window=last, recorded_ends=ends, runs=runs, deployed_at=deployed_at,
        newest_row=newest, freshness_error=error, open_requests=open_requests(store, config.name)))


def emit_health(report: HealthReport) -> None:
    """`driftflow.health` for the model: the report as payload, its state as resource labels automations match."""
    from prefect.events import emit_event

    labels = {"prefect.resource.id": f"driftflow.model.{report.model}", "prefect.resource.name": report.model,
              "driftflow.health": "ok" if report.healthy else "unhealthy",
              "driftflow.late": str(report.late_by is not None).lower(),
              "driftflow.failing": str(bool(report.failure_streak) and any(
                  p.startswith("failing") for p in report.problems)).lower(),
              "driftflow.data": {True: "stale", False: "fresh", None: "unknown"}[report.stale]}
    emit_event(event="driftflow.health", resource=labels, payload=report.as_dict())
