"""The Typer application every command module registers on."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="driftflow: drift monitoring and safe retraining on Prefect.", no_args_is_help=True,
                  rich_markup_mode=None)

ModelOption = Annotated[str, typer.Option("--model", "-m", help="Monitored model (deployments/models/<model>.yaml)")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object per window")]


@app.callback()
def options(debug: Annotated[bool, typer.Option(
        "--debug", help="Print the traceback of an error (and Prefect's error logs), not only its one-line message",
        envvar="DRIFTFLOW_DEBUG")] = False) -> None:
    """driftflow: drift monitoring and safe retraining on Prefect."""
    import os

    from flows.prefect_env import DEBUG

    if debug:
        os.environ[DEBUG] = "1"
