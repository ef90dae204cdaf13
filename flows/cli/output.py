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
    """One line per window at any terminal width: the reason ends in an ellipsis where it does not fit (`--json`
    and the report have it whole; it names the drifted columns)."""
    metric = next((s["performance"]["metric"] for s in summaries if (s.get("performance") or {}).get("metric")), "")
    rows = []
    for s in summaries:
        perf = s.get("performance") or {}
        value, reference = perf.get("value"), perf.get("reference")
        perf_text = f"{value:.3f} ({reference:.3f})" if value is not None and reference is not None else "–"
        rows.append((s["window_end"][:16], s["verdict"], f"{s['row_count']:,}", perf_text, (s["reasons"] or [""])[0]))
    headers = ("window end", "verdict", "rows", f"{metric} (ref)".strip())
    widths = [max(len(header), *(len(r[i]) for r in rows)) for i, header in enumerate(headers)]
    room = max(12, console.width - sum(widths) - 3 * (len(headers) + 1) - 1)  # what the borders leave
    table = Table(show_lines=False, caption="whole reasons: --json", caption_justify="left")
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, no_wrap=True, width=width, justify="right" if header == "rows" else "left")
    table.add_column("first reason", no_wrap=True, max_width=room)
    for end, verdict, count, perf_text, reason in rows:
        short = reason if len(reason) <= room else reason[:room - 1] + "…"
        table.add_row(end, Text(verdict, style=STYLE.get(verdict, "")), count, perf_text, Text(short))
    console.print(table)
    counts: dict[str, int] = {}
    for s in summaries:
        counts[s["verdict"]] = counts.get(s["verdict"], 0) + 1
    console.print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
