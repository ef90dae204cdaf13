"""`driftflow deploy`: the same deployments, registered for a process work pool (run by `prefect worker`)."""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists

from flows.monitor import monitor
from flows.retrain import retrain
from tasks.config import list_models, load_model_config
from tasks.settings import project_dir


def ensure_pool(name: str) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        except ObjectAlreadyExists:
            pass


def deploy_to_pool(work_pool: str) -> list[str]:
    """Register monitor/<model> and retrain/<model> for every model, with code loaded from this checkout."""
    from flows.deployments import model_deployments

    ensure_pool(work_pool)
    names = []
    for model in list_models():
        config = load_model_config(model)
        for deployment in model_deployments(config):
            entry = monitor if deployment.flow_name == "monitor" else retrain
            source = entry.from_source(source=str(project_dir()), entrypoint=deployment.entrypoint or "")
            source.deploy(name=deployment.name, work_pool_name=work_pool, schedules=deployment.schedules,
                          parameters=deployment.parameters, tags=deployment.tags,
                          concurrency_limit=deployment.concurrency_limit, description=deployment.description,
                          build=False, push=False, print_next_steps=False)
            names.append(f"{deployment.flow_name}/{deployment.name}")
    return names
