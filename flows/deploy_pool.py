"""`driftflow deploy`: the deployments registered on a work pool (process or Kubernetes), with their automations."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists

from flows.deployments import Spec, deployment_specs, project_specs, set_up_automations
from flows.monitor import monitor
from tasks.config import list_models, load_model_config
from tasks.ops.config import load_operations
from tasks.settings import project_dir


def ensure_pool(name: str) -> None:
    """A process pool of that name unless one exists (a Kubernetes pool is created beforehand: docs/kubernetes.md)."""
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=name, type="process"))


def deploy_to_pool(work_pool: str, *, source: str | None = None,
                   image: str | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """Register every model's monitor and retrain deployments and the project's health and prune ones on the
    pool, with code loaded from `source` (default: this checkout; in a container image, its project folder),
    then the automations that watch them. `image` (a Kubernetes or Docker pool) is the job variable the runs
    start from. Returns the deployment names and what happened to the automations."""
    ensure_pool(work_pool)
    specs: list[Spec] = [s for model in list_models() for s in deployment_specs(load_model_config(model))]
    specs += project_specs(load_operations())
    names: list[str] = []
    monitor_ids: dict[str, UUID] = {}
    for flow, spec in specs:
        module = Path(flow.fn.__code__.co_filename).relative_to(project_dir()).as_posix()
        remote = cast(Flow[Any, Any], flow.from_source(source=source or str(project_dir()),
                                                      entrypoint=f"{module}:{flow.fn.__name__}"))
        deployment_id = cast(UUID, remote.deploy(work_pool_name=work_pool, build=False, push=False,
                                                 print_next_steps=False,
                                                 job_variables={"image": image} if image else None, **spec))
        names.append(f"{flow.name}/{spec['name']}")
        if flow.name == monitor.name:
            monitor_ids[spec["name"]] = deployment_id
    return names, set_up_automations(monitor_ids)
