"""Prefect deployments of each monitored model: `monitor/<model>` on its cron, `retrain/<model>` one at a time."""

from __future__ import annotations

from typing import Any, cast

from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.monitor import monitor
from flows.retrain import retrain
from tasks.config import ModelConfig, list_models, load_model_config


def deployment_specs(config: ModelConfig, *, paused: bool = False) -> list[tuple[Flow[Any, Any], dict[str, Any]]]:
    """Each flow of a model with the settings of its deployment (shared by `serve` and `deploy`)."""
    tags = ["driftflow", f"model:{config.name}"]
    return [
        (monitor, {"name": config.name, "parameters": {"model": config.name}, "tags": tags, "paused": paused,
                   "schedules": [Cron(config.schedule.cron, timezone=config.schedule.timezone)],
                   "description": f"Monitor {config.name}: one {config.schedule.window} window per tick"}),
        (retrain, {"name": config.name, "parameters": {"model": config.name}, "tags": tags,
                   "concurrency_limit": ConcurrencyLimitConfig(
                       limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
                   "description": f"Retrain {config.name}: challenger vs champion, promoted only if better"}),
    ]


def model_deployments(config: ModelConfig, *, paused: bool = False) -> list[RunnerDeployment]:
    """The two deployments of one monitored model, for `serve` or `apply`."""
    specs = deployment_specs(config, paused=paused)
    return [cast(RunnerDeployment, flow.to_deployment(**spec)) for flow, spec in specs]


def all_deployments() -> list[RunnerDeployment]:
    return [d for name in list_models() for d in model_deployments(load_model_config(name))]


def register(deployments: list[RunnerDeployment]) -> list[str]:
    """Create or update the deployments on the server; returns their names."""
    for deployment in deployments:
        deployment.apply()
    return [f"{d.flow_name}/{d.name}" for d in deployments]
