"""`driftflow deploy`: the deployments registered for a process work pool (run by `prefect worker start`)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, cast

from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists

from flows.deployments import deployment_specs
from tasks.config import list_models, load_model_config
from tasks.settings import project_dir


def ensure_pool(name: str) -> None:
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=name, type="process"))


def deploy_to_pool(work_pool: str) -> list[str]:
    """Register monitor/<model> and retrain/<model> for every model, with code loaded from this checkout."""
    ensure_pool(work_pool)
    names = []
    for model in list_models():
        for flow, spec in deployment_specs(load_model_config(model)):
            module = Path(flow.fn.__code__.co_filename).relative_to(project_dir()).as_posix()
            remote = cast(Flow[Any, Any], flow.from_source(source=str(project_dir()),
                                                          entrypoint=f"{module}:{flow.fn.__name__}"))
            remote.deploy(work_pool_name=work_pool, build=False, push=False, print_next_steps=False, **spec)
            names.append(f"{flow.name}/{spec['name']}")
    return names
