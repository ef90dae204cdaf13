"""The demo: a local Prefect server and 2013 replayed week by week; and stopping what it started."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.progress import Progress

from flows.cli.app import app
from flows.cli.output import console, err, parse_time
from flows.prefect_env import configure_prefect


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

    begin, finish = parse_time(start, "--start"), parse_time(end, "--end")
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
