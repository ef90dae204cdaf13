"""Reading what exists for retention (artifact store, monitoring store, Prefect) and deleting a plan."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tasks import artifacts
from tasks.config import ModelConfig
from tasks.db import as_utc
from tasks.ops.prune import Inventory, PrunePlan, cutoffs
from tasks.store.schema import model_events, model_versions, monitor_runs, reference_snapshots

FINISHED = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
PAGE = 200


def _key(location: str | None) -> str | None:
    if not location:
        return None
    try:
        return artifacts.key_for(location)
    except ValueError:  # a file outside the artifact root is not ours to delete
        return None


def store_inventory(store: sa.Engine, configs: list[ModelConfig], older_than: timedelta,
                    sizes: dict[str, int]) -> Inventory:
    """The rows retention decides on, with their stored paths turned into artifact keys."""
    with store.connect() as conn:
        newest = {m: w for m, w in conn.execute(sa.select(monitor_runs.c.model, sa.func.max(monitor_runs.c.window_end))
                                                .group_by(monitor_runs.c.model))}
        partial = Inventory(sizes=sizes, newest_window=newest, used_references={}, snapshots=[], versions=[])
        used: dict[str, set[str]] = {}
        for model, limit in cutoffs(partial, older_than).items():
            used[model] = {v for v in conn.execute(
                sa.select(monitor_runs.c.reference_version).distinct()
                .where(monitor_runs.c.model == model, monitor_runs.c.window_end >= limit)).scalars() if v}
        snapshots = [dict(r._mapping) for r in conn.execute(sa.select(reference_snapshots))]
        versions = [dict(r._mapping) for r in conn.execute(sa.select(model_versions))]
        kept = {(m, int(v)) for m, v in conn.execute(sa.select(model_events.c.model, model_events.c.version)
                                                      .where(model_events.c.event == "kept")) if v is not None}
    for snap in snapshots:
        snap["path_key"], snap["profile_key"] = _key(snap["path"]), _key(snap.get("profile_path"))
    for version in versions:
        version["artifact_key"] = _key(version["artifact_path"])
    fixed = {c.name: f"fixed-{c.reference.start:%Y%m%dT%H%M}-{c.reference.end:%Y%m%dT%H%M}" for c in configs
             if c.reference.from_ == "fixed_window" and c.reference.start and c.reference.end}
    return Inventory(sizes=sizes, newest_window=newest, used_references=used, snapshots=snapshots,
                     versions=versions, fixed_references=fixed, kept=kept)


def artifact_sizes() -> dict[str, int]:
    return {a.key: a.size for prefix in ("reports", "references", "models") for a in artifacts.list_artifacts(prefix)}


def finished_flow_runs(before: datetime) -> list[dict[str, Any]]:
    """driftflow's flow runs (tagged `driftflow`, as its deployments tag them) finished before `before`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterEndTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    flow_filter = FlowRunFilter(tags=FlowRunFilterTags(all_=["driftflow"]), end_time=FlowRunFilterEndTime(
        before_=before), state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(s) for s in FINISHED])))
    found: list[dict[str, Any]] = []
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_flow_runs(flow_run_filter=flow_filter, limit=PAGE, offset=len(found))
            found += [{"id": r.id, "name": r.name, "end": as_utc(r.end_time)} for r in page if r.end_time]
            if len(page) < PAGE:
                return found


def apply_plan(plan: PrunePlan) -> dict[str, int]:
    """Delete what the plan lists; returns how many of each kind went (already missing ones are not counted)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    done = {"report": 0, "reference": 0, "model": 0, "flow_run": 0, "bytes": 0}
    runs = [i for i in plan.items if i.kind == "flow_run"]
    for item in plan.items:
        if item.kind != "flow_run" and artifacts.delete(item.target):
            done[item.kind] += 1
            done["bytes"] += item.size
    if runs:
        with get_client(sync_client=True) as client:
            for item in runs:
                delete_run_artifacts(client, UUID(item.target))
                try:
                    client.delete_flow_run(UUID(item.target))
                    done["flow_run"] += 1
                except ObjectNotFound:
                    continue
    return done


def delete_run_artifacts(client: Any, flow_run_id: Any) -> None:
    """Delete a flow run's Prefect artifacts (the verdict summary, the drift table, the report link): Prefect
    deletes a flow run's task runs and logs with it, but leaves its artifacts behind."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.exceptions import ObjectNotFound

    of_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    while page := client.read_artifacts(artifact_filter=of_run, limit=PAGE):
        for artifact in page:
            try:
                client.delete_artifact(artifact.id)
            except ObjectNotFound:  # deleted meanwhile
                continue
