"""Prefect deployments of each monitored model: `monitor/<model>` on its cron, `retrain/<model>` one at a time."""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.monitor import monitor
from flows.retrain import retrain
from tasks.config import ModelConfig, list_models, load_model_config


def tags(config: ModelConfig) -> list[str]:
    return ["driftflow", f"model:{config.name}"]


def model_deployments(config: ModelConfig, *, paused: bool = False, **pool: Any) -> list[RunnerDeployment]:
    """The two deployments of one monitored model."""
    schedule = Cron(config.schedule.cron, timezone=config.schedule.timezone)
    return [
        monitor.to_deployment(
            name=config.name, schedules=[schedule], paused=paused, parameters={"model": config.name},
            tags=tags(config), description=f"Monitor {config.name}: one {config.schedule.window} window per tick",
            **pool),
        retrain.to_deployment(
            name=config.name, parameters={"model": config.name}, tags=tags(config),
            concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
            description=f"Retrain {config.name}: challenger vs champion, promoted only if better", **pool),
    ]


def all_deployments(*, paused: bool = False, **pool: Any) -> list[RunnerDeployment]:
    return [d for name in list_models() for d in model_deployments(load_model_config(name), paused=paused, **pool)]


def register(deployments: list[RunnerDeployment]) -> list[str]:
    """Create or update the deployments on the server; returns their names."""
    for deployment in deployments:
        deployment.apply()
    return [f"{d.flow_name}/{d.name}" for d in deployments]
