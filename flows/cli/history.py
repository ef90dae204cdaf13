"""Commands over a model's recorded history: relabel (rerun past windows, audited), audit (what changed)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from flows.cli.app import JsonOption, ModelOption, app
from flows.cli.monitoring import run_window
from flows.cli.output import console, err, fail, known_errors, parse_time
from flows.prefect_env import configure_prefect, require_api


@app.command()
def relabel(model: ModelOption,
            since: Annotated[str, typer.Option(help="Rerun recorded windows ending after this (ISO, UTC)")],
            until: Annotated[str | None, typer.Option(help="… and up to this window end (default: all)")] = None,
            actions: Annotated[bool, typer.Option(
                help="Let a degradation the new labels confirm request a retrain, as on schedule")] = False,
            as_json: JsonOption = False) -> None:
    """Rerun the recorded windows in (since, until], oldest first, after labels arrived late or rows were
    corrected. A window whose verdict, reference or data did not change keeps its record; every change is a new
    revision, audited with its cause (`driftflow audit`)."""
    api_url = configure_prefect()
    from tasks.store.engine import open_store
    from tasks.store.windows import audit_rows, last_audit_id, window_runs

    try:
        require_api(api_url)
        start = parse_time(since, "--since")
        end = parse_time(until, "--until") if until else None
        store = open_store()
        ends = sorted(run["window_end"] for run in window_runs(store, model, start, end))
        if not ends:
            fail(f"no recorded window of {model} ends after {since}{f' and up to {until}' if until else ''}")
        before = last_audit_id(store)
        with Progress(console=err, transient=True) as progress:
            bar = progress.add_task(f"{model}: {len(ends)} windows", total=len(ends))
            for window_end in ends:
                run_window(model, window_end, actions)
                progress.advance(bar)
        changed = audit_rows(store, model, before)
    except known_errors() as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps({"rerun": len(ends), "changed": [_plain(row) for row in changed]}))
        return
    console.print(f"{model}: {len(ends)} recorded windows rerun, {len(changed)} changed")
    if changed:
        print_audit(changed)


@app.command()
def audit(model: ModelOption, as_json: JsonOption = False) -> None:
    """Every change of a recorded verdict of a model (late labels, corrected rows, a rerun under another
    configuration), oldest first: when, why, and what changed."""
    from tasks.store.engine import open_store
    from tasks.store.windows import audit_rows

    try:
        rows = audit_rows(open_store(), model)
    except known_errors() as exc:
        fail(str(exc))
    if as_json:
        for row in rows:
            print(json.dumps(_plain(row)))
    elif not rows:
        console.print(f"no recorded verdict of {model} has changed")
    else:
        print_audit(rows)


def print_audit(rows: list[dict[str, Any]]) -> None:
    table = Table()
    for header in ("window end", "changed at", "cause", "verdict", "what changed"):
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(row["window_end"].isoformat()[:16], row["changed_at"].isoformat()[:16], row["cause"],
                      f"{row['old_status']} → {row['new_status']}", ", ".join(sorted(row["changes"])))
    console.print(table)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {"window_end": row["window_end"].isoformat(), "changed_at": row["changed_at"].isoformat(),
            "cause": row["cause"], "old_status": row["old_status"], "new_status": row["new_status"],
            "old_reference_version": row["old_reference_version"],
            "new_reference_version": row["new_reference_version"], "changes": row["changes"],
            "old_reasons": row["old_reasons"], "new_reasons": row["new_reasons"]}
