"""Prefect deployments: per model `monitor/<model>` on its cron, `retrain/<model>` one at a time and, when
scheduled, `relabel/<model>`; for the project `health/driftflow` and `prune/driftflow` on the schedules of
`deployments/operations.yaml`; and the automations and notification blocks that go with them."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.health import health
from flows.monitor import STATE_NAMES, monitor
from flows.prune import prune
from flows.relabel import relabel
from flows.retrain import retrain
from tasks.config import ModelConfig, list_models, load_model_config
from tasks.ops.config import OperationsConfig, load_operations
from tasks.ops.setup import deployed_monitors, set_up_operations

PROJECT = "driftflow"  # the deployment name of the project-wide flows: health/driftflow, prune/driftflow
Spec = tuple[Flow[Any, Any], dict[str, Any]]


def deployment_specs(config: ModelConfig, *, paused: bool = False) -> list[Spec]:
    """Each flow of a model with the settings of its deployment (shared by `serve` and `deploy`); `relabel/<model>`
    only when the model schedules a look for late labels (`performance.relabel`)."""
    tags = ["driftflow", f"model:{config.name}"]
    return [*_monitor_and_retrain(config, tags, paused), *_relabel(config, tags, paused)]


def _relabel(config: ModelConfig, tags: list[str], paused: bool) -> list[Spec]:
    schedule = config.performance.relabel
    if schedule is None:
        return []
    return [(relabel, {"name": config.name, "parameters": {"model": config.name}, "tags": tags, "paused": paused,
                       "schedules": [Cron(schedule.cron, timezone=config.schedule.timezone)],
                       "description": f"Rerun {config.name}'s windows of the last {schedule.lookback} whose labels "
                                      "matured late"})]


def _monitor_and_retrain(config: ModelConfig, tags: list[str], paused: bool) -> list[Spec]:
    return [
        (monitor, {"name": config.name, "parameters": {"model": config.name}, "tags": tags, "paused": paused,
                   "schedules": [Cron(config.schedule.cron, timezone=config.schedule.timezone)],
                   "description": f"Monitor {config.name}: one {config.schedule.window} window per tick"}),
        (retrain, {"name": config.name, "parameters": {"model": config.name}, "tags": tags,
                   "concurrency_limit": ConcurrencyLimitConfig(
                       limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
                   "description": f"Retrain {config.name}: challenger vs champion, promoted only if better"}),
    ]


def project_specs(operations: OperationsConfig, *, paused: bool = False) -> list[Spec]:
    """The health check and the retention run of the whole project."""
    tags = ["driftflow"]
    retention = operations.retention
    return [
        (health, {"name": PROJECT, "tags": tags, "paused": paused, "schedules": [Cron(operations.health.cron)],
                  "description": "Check every model's monitor and data; emit driftflow.health"}),
        (prune, {"name": PROJECT, "tags": tags, "paused": paused, "schedules": [Cron(retention.cron)],
                 "parameters": {"older_than": f"{int(retention.older_than.total_seconds())}s",
                                "flow_runs": retention.flow_runs},
                 "description": f"Remove artifacts and flow runs older than {retention.older_than}"}),
    ]


def model_deployments(config: ModelConfig, *, paused: bool = False) -> list[RunnerDeployment]:
    """The deployments of one monitored model (monitor, retrain, and relabel if scheduled), for `serve` or
    `apply`."""
    specs = deployment_specs(config, paused=paused)
    return [cast(RunnerDeployment, flow.to_deployment(**spec)) for flow, spec in specs]


def all_deployments(models: list[str] | None = None) -> list[RunnerDeployment]:
    """The deployments of `models` (default: every model in the folder) and the project's health and prune
    deployments. A name without a configuration is refused before anything is registered."""
    configs = [load_model_config(name) for name in (models or list_models())]
    project = [cast(RunnerDeployment, flow.to_deployment(**spec)) for flow, spec in project_specs(load_operations())]
    return [d for config in configs for d in model_deployments(config)] + project


def register(deployments: list[RunnerDeployment]) -> list[str]:
    """Create or update the deployments on the server; returns their names."""
    for deployment in deployments:
        deployment.apply()
    return [f"{d.flow_name}/{d.name}" for d in deployments]


def set_up_automations(monitor_ids: dict[str, UUID]) -> dict[str, list[str]]:
    """Notification blocks and automations for the models whose monitor deployments are `monitor_ids`."""
    configs = [load_model_config(name) for name in sorted(monitor_ids)]
    return set_up_operations(configs, monitor_ids, list(STATE_NAMES.values()))


def prepare_serving(deployments: list[RunnerDeployment]) -> dict[str, list[str]]:
    """Before `serve`: apply the deployments (for their ids) and set up the automations that watch them, and
    keep those of the configured models deployed elsewhere (another `serve -m`, a work pool)."""
    ids = {(d.flow_name, d.name): cast(UUID, d.apply()) for d in deployments}
    configured = set(list_models())
    elsewhere = {name: i for name, i in deployed_monitors().items() if name in configured}
    return set_up_automations(elsewhere | {name: ids[(flow, name)] for flow, name in ids if flow == monitor.name})
