"""The prune flow: artifacts and flow runs outside the retention removed, the audit and the champion kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tasks.config import list_models, load_model_config, parse_duration
from tasks.ops.prune import PrunePlan, plan_prune
from tasks.ops.prune_inventory import apply_plan, artifact_sizes, finished_flow_runs, store_inventory
from tasks.store.engine import open_store


@task(name="plan-prune", cache_policy=NO_CACHE)
def make_plan(older_than: timedelta, flow_runs: bool, now: datetime) -> PrunePlan:
    """What is outside the retention and needed by nothing (read from the stores and Prefect)."""
    configs = [load_model_config(m) for m in list_models()]
    inventory = store_inventory(open_store(), configs, older_than, artifact_sizes())
    if flow_runs:
        inventory = replace(inventory, flow_runs=finished_flow_runs(now - older_than))
    return plan_prune(inventory, older_than, now)


@task(name="apply-prune", cache_policy=NO_CACHE)
def apply_prune(plan: PrunePlan) -> dict[str, int]:
    """Delete the planned artifacts and flow runs."""
    return apply_plan(plan)


def describe(plan: PrunePlan, done: dict[str, int] | None) -> str:
    """A markdown summary: counts and size by kind, and what happened."""
    lines = [f"# driftflow prune: {'deleted' if done is not None else 'would delete'}",
             f"{plan.count('report')} report file(s), {plan.count('reference')} reference file(s), "
             f"{plan.count('model')} model file(s): {plan.total_bytes / 1e6:.1f} MB; "
             f"{plan.count('flow_run')} flow run(s)"]
    return "\n\n".join(lines)


@flow(name="prune", log_prints=True)
def prune(older_than: str = "90d", dry_run: bool = False, flow_runs: bool = True) -> dict[str, Any]:
    """Remove reports, superseded references, retired models' files and flow runs older than `older_than`."""
    plan = make_plan(parse_duration(older_than), flow_runs, datetime.now(UTC))
    done = None if dry_run else apply_prune(plan)
    create_markdown_artifact(key="driftflow-prune", markdown=describe(plan, done))
    print(describe(plan, done))
    return {"dry_run": dry_run, "planned": [item.__dict__ for item in plan.items],
            "total_bytes": plan.total_bytes, "deleted": done}
