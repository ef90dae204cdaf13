"""Registering the deployments: served from this process, or on a work pool; with their automations."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli.app import app
from flows.cli.output import console, fail, known_errors
from flows.prefect_env import configure_prefect


def print_automations(done: dict[str, list[str]]) -> None:
    counts = ", ".join(f"{len(names)} {what}" for what, names in done.items() if names)
    console.print(f"automations: {counts or 'none'}")


@app.command()
def deploy(work_pool: Annotated[str, typer.Option(help="Work pool to run on (created as a process pool if "
                                                       "missing)")] = "driftflow",
           source: Annotated[str | None, typer.Option(help="Where workers find the code (default: this "
                                                           "checkout; in the container image: /app)")] = None,
           image: Annotated[str | None, typer.Option(help="Container image of the runs (Kubernetes/Docker "
                                                          "pools)")] = None) -> None:
    """Register monitor/<model> and retrain/<model> for every model and the project's health and prune, on a work
    pool, with the automations that watch them and the notifications of deployments/operations.yaml."""
    configure_prefect()
    from flows.deploy_pool import deploy_to_pool

    try:
        names, automations = deploy_to_pool(work_pool, source=source, image=image)
    except known_errors() as exc:
        fail(str(exc))
    for name in names:
        console.print(f"registered {name}")
    print_automations(automations)
    console.print(f"start a worker with: prefect worker start --pool {work_pool}")


@app.command()
def serve(model: Annotated[list[str] | None, typer.Option(
        "--model", "-m", help="Serve only this model (repeat for more); default: every model in "
                              "deployments/models/")] = None) -> None:
    """Register the models' deployments (and the project's health and prune) with their schedules and
    automations, and run them from this process."""
    configure_prefect(quiet_console=False)
    from prefect import serve as prefect_serve

    from flows.deployments import all_deployments, prepare_serving

    try:
        deployments = all_deployments(model)
        print_automations(prepare_serving(deployments))
    except known_errors() as exc:
        fail(str(exc))
    prefect_serve(*deployments)
