"""Commands for running driftflow in production: health, prune, notify, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from flows.cli.app import JsonOption, app
from flows.cli.output import console, fail, known_errors, parse_time
from flows.prefect_env import configure_prefect

OptionalModel = Annotated[str | None, typer.Option("--model", "-m", help="One model (default: every model)")]


@app.command()
def health(model: OptionalModel = None, as_json: JsonOption = False,
           emit: Annotated[bool, typer.Option(help="Emit driftflow.health events for automations")] = True) -> None:
    """Per model: last verdict, last successful run, lateness, failure streak, data freshness, open retrain
    requests. Exits 1 when a model is unhealthy."""
    configure_prefect()
    from tasks.config import list_models, load_model_config
    from tasks.ops.health_check import check_health, emit_health
    from tasks.store.engine import open_store

    try:
        store = open_store()
        reports = [check_health(store, load_model_config(m)) for m in ([model] if model else list_models())]
    except known_errors() as exc:
        fail(str(exc))
    if emit:
        for report in reports:
            emit_health(report)
    rows = [r.as_dict() for r in reports]
    if as_json:
        for row in rows:
            print(json.dumps(row))
    else:
        print_health(rows)
    if any(row["status"] != "ok" for row in rows):
        raise typer.Exit(1)


def print_health(rows: list[dict[str, Any]]) -> None:
    table = Table()
    for header in ("model", "status", "last verdict", "last success", "failures", "newest row", "open retrains"):
        table.add_column(header, overflow="fold")
    for r in rows:
        table.add_row(r["model"], Text(r["status"], style="green" if r["status"] == "ok" else "bold red"),
                      f"{r['last_verdict'] or '–'} {(r['last_window_end'] or '')[:16]}",
                      (r["last_success"] or "–")[:16], str(r["failure_streak"] if r["failure_streak"] is not None
                                                           else "?"),
                      (r["data"]["newest_row"] or "–")[:16], str(len(r["open_retrain_requests"])))
    console.print(table)
    for r in rows:
        for problem in r["problems"]:
            console.print(Text(f"{r['model']}: {problem}"))


@app.command()
def prune(older_than: Annotated[str, typer.Option(help="Keep this much history, e.g. 90d")] = "90d",
          dry_run: Annotated[bool, typer.Option(help="Only list what would be deleted")] = False,
          flow_runs: Annotated[bool, typer.Option(help="Also delete driftflow's old Prefect flow runs")] = True,
          as_json: JsonOption = False) -> None:
    """Delete old reports, superseded references, retired models' files and old flow runs; never the audit
    records, the champion or its reference."""
    configure_prefect()
    from flows.prune import prune as prune_flow
    from tasks.config import parse_duration

    try:
        parse_duration(older_than)
        result: dict[str, Any] = prune_flow(older_than=older_than, dry_run=dry_run,
                                            flow_runs=flow_runs)
    except ValueError as exc:
        fail(f"--older-than: {exc}")
    except known_errors() as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result, default=str))
        return
    for item in result["planned"]:
        console.print(Text(f"{'would delete' if dry_run else 'deleted'} {item['kind']} {item['target']} "
                           f"({item['size'] / 1e6:.2f} MB): {item['reason']}"))
    kinds = [i["kind"] for i in result["planned"]]
    console.print(f"{'would free' if dry_run else 'freed'} {result['total_bytes'] / 1e6:.1f} MB: "
                  f"{kinds.count('report')} report, {kinds.count('reference')} reference and "
                  f"{kinds.count('model')} model file(s); {kinds.count('flow_run')} flow run(s)")


@app.command()
def notify(test: Annotated[str | None, typer.Option(help="Send a test message through this channel")] = None) -> None:
    """Create the notification blocks and automations of deployments/operations.yaml for the deployed models."""
    configure_prefect()
    from flows.cli.deploying import print_automations
    from flows.deployments import set_up_automations
    from tasks.ops.config import load_operations
    from tasks.ops.notifications import channel_block
    from tasks.ops.setup import deployed_monitors

    try:
        print_automations(set_up_automations(deployed_monitors()))
        if test:
            channels = load_operations().channels
            if test not in channels:
                fail(f"no channel {test!r} in deployments/operations.yaml (channels: {', '.join(channels) or 'none'})")
            channel_block(test, channels[test]).notify(body="A test message from driftflow.",
                                                       subject="driftflow: test")
            console.print(f"sent a test message to {test}")
    except known_errors() as exc:
        fail(str(exc))


@app.command()
def report(model: Annotated[str, typer.Option("--model", "-m", help="Monitored model")],
           window_end: Annotated[str, typer.Option(help="End of the window (ISO, UTC)")],
           output: Annotated[Path | None, typer.Option(help="Where to write the HTML")] = None) -> None:
    """Copy a window's Evidently report from the artifact store to a local file and print its path."""
    import sqlalchemy as sa

    from tasks import artifacts
    from tasks.db import utc_naive
    from tasks.store.engine import open_store
    from tasks.store.schema import monitor_runs

    try:
        end = utc_naive(parse_time(window_end, "--window-end"))
        with open_store().connect() as conn:
            stored = conn.execute(sa.select(monitor_runs.c.report_path).where(
                monitor_runs.c.model == model, monitor_runs.c.window_end == end)).scalar()
        if not stored:
            fail(f"no report recorded for {model} at {window_end}")
        key = artifacts.key_for(stored)
        target = output or Path(f"{model}-{Path(key).parent.name}-{Path(key).name}")
        target.write_bytes(artifacts.read_bytes(key))
    except FileNotFoundError as exc:
        fail(f"{exc} (pruned?)")
    except known_errors() as exc:
        fail(str(exc))
    console.print(str(target.resolve()))
