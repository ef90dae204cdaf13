"""The decision-quality table, as aligned text for the terminal and as markdown for docs/."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks.quality.evaluation import SYMBOLS, DatasetResult

HEADERS = ["dataset", "windows", "stable", "false drift (stable)", "delay", "harm onset", "retrain requests",
           "ok/warn/drift/other", "Evidently false (stable)", "Evidently delay", "Evidently flagged",
           "served metric: stable → after change"]
START, END = "<!-- decision-quality:start -->", "<!-- decision-quality:end -->"


def _delay(value: int | None, negative_control: bool) -> str:
    if negative_control:
        return "n/a (control)"
    return "never" if value is None else str(value)


def _metric(result: DatasetResult) -> str:
    def fmt(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    if result.negative_control:
        return f"{result.metric} {fmt(result.stable_metric)} (no change)"
    return f"{result.metric} {fmt(result.stable_metric)} → {fmt(result.changed_metric)}"


def _requests(result: DatasetResult) -> str:
    text = str(result.requests)
    if result.recorded_requests is not None:
        recorded = ", ".join(f"{status} {count}" for status, count in result.recorded_requests.items()) or "none"
        text += f" (recorded: {recorded})"
    return text


def row(result: DatasetResult) -> list[str]:
    v = result.verdicts
    other = result.windows - v.get("ok", 0) - v.get("warn", 0) - v.get("drift", 0)
    return [
        result.name, str(result.windows), str(result.stable_windows),
        f"{result.false_drift} ({result.false_drift_share:.0%})",
        _delay(result.delay, result.negative_control), _delay(result.harm, result.negative_control),
        _requests(result),
        f"{v.get('ok', 0)}/{v.get('warn', 0)}/{v.get('drift', 0)}/{other}",
        f"{result.evidently_false} ({result.evidently_false / max(result.stable_windows, 1):.0%})",
        _delay(result.evidently_delay, result.negative_control), str(result.evidently_flagged), _metric(result),
    ]


def text_table(results: Sequence[DatasetResult]) -> str:
    """Aligned columns for the terminal, then each dataset's timelines."""
    rows = [HEADERS, *(row(r) for r in results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", legend()]
    for r in results:
        lines += [f"{r.name:>12} driftflow  {r.driftflow_timeline}", f"{'':>12} Evidently  {r.evidently_timeline}"]
    return "\n".join(lines)


def legend() -> str:
    names = ", ".join(f"{symbol} {verdict}" for verdict, symbol in SYMBOLS.items())
    return f"Timelines, one character per window ({names}; E: Evidently dataset drift; | the change):"


def markdown_table(results: Sequence[DatasetResult], command: str) -> str:
    """The table and the timelines in markdown, with the command that made them."""
    lines = [f"Made by `{command}`:", "", "| " + " | ".join(HEADERS) + " |",
             "|" + "|".join("---" for _ in HEADERS) + "|"]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results]
    lines += ["", legend(), "", "```"]
    for r in results:
        lines += [f"{r.name:>12} driftflow  {r.driftflow_timeline}", f"{'':>12} Evidently  {r.evidently_timeline}"]
    lines.append("```")
    return "\n".join(lines)


def write_markdown(path: Path, table: str) -> None:
    """Replace the block between the markers if the file has them; otherwise write the table as the file."""
    block = f"{START}\n{table}\n{END}"
    if path.is_file():
        text = path.read_text()
        if START in text and END in text:
            head, rest = text.split(START, 1)
            path.write_text(head + block + rest.split(END, 1)[1])
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(block + "\n")
