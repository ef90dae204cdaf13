"""`driftflow register`: make an existing model the champion (logged predictions, a model file, MLflow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.app import app
from flows.cli.output import console, fail, known_errors, parse_time


@app.command()
def register(
    model: Annotated[str, typer.Argument(help="Monitored model (deployments/models/<model>.yaml)")],
    reference_start: Annotated[str, typer.Option(help="Start of the reference window of the log (ISO, UTC)")],
    reference_end: Annotated[str, typer.Option(help="End of the reference window, exclusive (ISO, UTC)")],
    logged: Annotated[bool, typer.Option("--logged", help="No model file: the log's predictions are the model "
                                         "(a retraining section still retrains it, gated against them)")] = False,
    file: Annotated[Path | None, typer.Option("--file", help="A .joblib or .skops model file")] = None,
    mlflow: Annotated[str | None, typer.Option("--mlflow", help="An MLflow model URI: models:/name@alias")] = None,
    trained_to: Annotated[str | None, typer.Option(
        help="End of the model's training data: the baseline is measured on reference rows from then on")] = None,
    force: Annotated[bool, typer.Option(help="Register again even if this exact registration exists")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the registration as one JSON object")] = False,
) -> None:
    """Make an existing model the champion: record its reference window of the log and its baseline."""
    from tasks.config import load_model_config
    from tasks.registry.register import register_model
    from tasks.store.engine import open_store

    try:
        registration = register_model(
            open_store(), load_model_config(model), reference_start=parse_time(reference_start, "--reference-start"),
            reference_end=parse_time(reference_end, "--reference-end"), logged=logged, file=file, mlflow_uri=mlflow,
            trained_to=parse_time(trained_to, "--trained-to") if trained_to else None, force=force)
    except known_errors() as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(registration.as_dict()))
        return
    r = registration
    baseline = "no baseline" if r.baseline is None else f"baseline {r.metric} {r.baseline:.4f} on {r.baseline_rows} " \
                                                         "labelled rows"
    if r.created:
        console.print(f"{r.model}: v{r.version} ({r.kind}) is the champion; reference {r.reference_version} of "
                      f"{r.reference_rows} rows, {baseline}")
    else:
        console.print(f"{r.model}: already registered as v{r.version} ({r.kind}); nothing changed")
    for note in r.notes:
        console.print(f"  note: {note}")
