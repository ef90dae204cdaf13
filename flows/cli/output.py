"""What the commands print: one clear line per known error, verdict tables that fit 80 columns.

User and library text is printed with markup off: a value such as `[/bold]` in a message stays text. The
traceback of an error goes to the Prefect log of the run it ended; `driftflow --debug` prints it here too.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.prefect_env import debugging

console = Console(markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)

STYLE = {"ok": "green", "warn": "yellow", "drift": "bold red", "data_invalid": "magenta",
         "insufficient_data": "dim", "error": "red"}


def parse_time(value: str, option: str | None = None) -> datetime:
    """ISO date or date-time; without a zone it is UTC. A bad value is refused naming `option`."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date or date-time (e.g. 2013-02-04T06:00)",
                                 param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `error: message` (as plain text, one line however long) and end the command.

    Called while handling an exception, with `--debug` its traceback is printed first.
    """
    if debugging() and sys.exc_info()[1] is not None:
        err.print_exception()
    line = Text("error: ", style="red")
    line.append(" ".join(message.split()))
    err.print(line, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def known_errors() -> tuple[type[Exception], ...]:
    from tasks.errors import DriftflowError

    return (DriftflowError,)


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
        table.add_row(s["window_end"][:16], Text(verdict, style=STYLE.get(verdict, "")), str(s["row_count"]),
                      drifted, perf_text, Text((s["reasons"] or [""])[0]))
    console.print(table)
    counts: dict[str, int] = {}
    for s in summaries:
        counts[s["verdict"]] = counts.get(s["verdict"], 0) + 1
    console.print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
