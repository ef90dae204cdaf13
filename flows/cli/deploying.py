"""Registering the deployments: served from this process, or on a work pool."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.app import app
from flows.cli.output import console
from flows.prefect_env import configure_prefect


@app.command()
def deploy(work_pool: Annotated[str, typer.Option(help="Process work pool to run on")] = "driftflow") -> None:
    """Register monitor/<model> (cron from its YAML) and retrain/<model> for every model, on a work pool."""
    configure_prefect()
    from flows.deploy_pool import deploy_to_pool

    for name in deploy_to_pool(work_pool):
        console.print(f"registered {name}")
    console.print(f"start a worker with: prefect worker start --pool {work_pool}")


@app.command()
def serve() -> None:
    """Register every model's deployments with their schedules and run them from this process."""
    configure_prefect(quiet_console=False)
    from prefect import serve as prefect_serve

    from flows.deployments import all_deployments

    prefect_serve(*all_deployments())
