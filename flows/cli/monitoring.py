"""Commands that monitor windows and read their verdicts back: run, backfill, status."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress

from flows.cli.app import JsonOption, ModelOption, app
from flows.cli.output import console, err, fail, known_errors, parse_time, print_verdicts
from flows.prefect_env import configure_prefect, require_api

if TYPE_CHECKING:
    from tasks.retrain.replay_summary import ReplaySummary


def run_window(model: str, window_end: datetime, actions: bool) -> dict[str, Any]:
    from flows.monitor import monitor

    result: dict[str, Any] = monitor(model=model, window_end=window_end, actions=actions)  # type: ignore[assignment]
    return result


@app.command()
def run(model: ModelOption, window_end: Annotated[str, typer.Option(help="End of the window (ISO, UTC)")],
        as_json: JsonOption = False,
        actions: Annotated[bool, typer.Option(help="Request retraining on drift")] = True) -> None:
    """Monitor one window."""
    api_url = configure_prefect()
    from tasks.config import load_model_config
    from tasks.schedule import check_on_schedule

    try:
        require_api(api_url)
        end = parse_time(window_end, "--window-end")
        check_on_schedule(load_model_config(model), end)  # an off-schedule end would record an extra window
        summary = run_window(model, end, actions)
    except known_errors() as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(summary))
    else:
        print_verdicts([summary])


@app.command()
def backfill(model: ModelOption, start: Annotated[str, typer.Option(help="First window end (ISO, UTC)")],
             end: Annotated[str, typer.Option(help="Last window end (ISO, UTC)")], as_json: JsonOption = False,
             actions: Annotated[bool, typer.Option(
                 help="Replay with actions: each window scored by the champion of its time, each accepted "
                      "retrain run here to completion before the next window (no worker or serve needed); "
                      "prints what the policy cost and bought")] = False
             ) -> None:
    """Monitor every scheduled window whose end lies in [start, end], oldest first."""
    api_url = configure_prefect()
    from tasks.config import load_model_config
    from tasks.schedule import window_ends

    try:
        require_api(api_url)
        ends = window_ends(load_model_config(model), parse_time(start, "--start"), parse_time(end, "--end"))
        if not ends:
            fail(f"no scheduled window of {model} ends between {start} and {end}")
        with Progress(console=err, transient=True) as progress:
            bar = progress.add_task(f"{model}: {len(ends)} windows", total=len(ends))

            def done(summary: dict[str, Any]) -> None:
                if as_json:
                    print(json.dumps(summary), flush=True)
                progress.advance(bar)

            summaries, replay = backfill_windows(model, ends, actions, done)
    except known_errors() as exc:
        fail(str(exc))
    failed = [s for s in summaries if "failed" in s]
    if as_json:
        if replay is not None:
            print(json.dumps({"replay": replay.as_dict()}))
    else:
        if len(failed) < len(summaries):
            print_verdicts([s for s in summaries if "failed" not in s])
        if replay is not None:
            for line in replay.lines():
                console.print(line, markup=False, highlight=False)
    if failed:
        for summary in failed:
            err.print(f"not measured: {summary['window_end'][:16]}: {' '.join(summary['failed'].split())}",
                      markup=False, highlight=False, soft_wrap=True)
        fail(f"{len(failed)} of {len(summaries)} windows of {model} could not be measured (listed above); "
             "the others are recorded")


def backfill_windows(model: str, ends: list[datetime], actions: bool, done: Callable[[dict[str, Any]], None]
                     ) -> tuple[list[dict[str, Any]], ReplaySummary | None]:
    """Without actions: each window monitored and recorded. With actions: the closed loop replayed."""
    if actions:
        from flows.replay import replay_history

        return replay_history(model, ends, done)
    summaries = []
    for window_end in ends:
        try:
            summaries.append(run_window(model, window_end, False))
        except fatal_errors():
            raise
        except Exception as exc:  # this window could not be measured; the next one may be, unless Prefect is gone
            require_api(os.environ.get("PREFECT_API_URL"))
            summaries.append({"model": model, "window_end": window_end.isoformat(),
                              "failed": f"{type(exc).__name__}: {exc}"})
        done(summaries[-1])
    return summaries, None


def fatal_errors() -> tuple[type[Exception], ...]:
    """What fails every window alike (a broken configuration; the warehouse, store, artifacts or Prefect out of
    reach) ends a backfill at once; anything else is noted for its window, and the backfill goes on."""
    from tasks.errors import (
        ArtifactsUnavailable,
        ConfigError,
        OrchestratorUnavailable,
        StoreUnavailable,
        WarehouseUnavailable,
    )

    return ConfigError, WarehouseUnavailable, StoreUnavailable, ArtifactsUnavailable, OrchestratorUnavailable


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
