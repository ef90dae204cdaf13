"""The demo's closing summary: weeks and verdicts, retrains, and what each promotion bought."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(console: Console, result: Any, promotions: list[dict[str, Any]]) -> None:
    weeks, retrains = result.weeks, result.retrains
    verdicts = Counter(w["verdict"] for w in weeks)
    requests = [w["retrain"] for w in weeks if w.get("retrain")]
    accepted = [r for r in requests if r["status"] == "accepted"]
    per_window = Counter(w["window_end"] for w in weeks if w.get("retrain"))
    console.print(f"\n[bold]Replayed {len(weeks)} weeks[/bold] "
                  f"({weeks[0]['window_end'][:10]} … {weeks[-1]['window_end'][:10]})" if weeks else "no weeks")
    console.print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    console.print(f"retrains requested: {len(requests)} (accepted {len(accepted)}, refused "
                  f"{len(requests) - len(accepted)}); run: {len(retrains)}; promoted: "
                  f"{sum(r['outcome'] == 'promoted' for r in retrains)}; rejected: "
                  f"{sum(r['outcome'] == 'rejected' for r in retrains)}; most requests in one week: "
                  f"{max(per_window.values(), default=0)}")
    table = Table(title="Retrains")
    for header in ("triggered by window", "outcome", "challenger", "champion", "metric", "challenger", "champion"):
        table.add_column(header)
    for r in retrains:
        table.add_row(r["window_end"][:10], r["outcome"], f"v{r['version']}", f"v{r['champion_version']}",
                      r["metric"], _fmt(r["challenger_score"]), _fmt(r["champion_score"]))
    console.print(table)
    if promotions:
        table = Table(title="After each promotion: the new champion vs the one it replaced, same weeks")
        for header in ("promoted", "replaced", "weeks served", "labelled flights", "new", "old", "gain"):
            table.add_column(header)
        for p in promotions:
            gain = None if p["new"] is None or p["old"] is None else p["new"] - p["old"]
            table.add_row(f"v{p['promoted']}", f"v{p['replaced']}", f"{p['from']:%Y-%m-%d} … {p['to']:%Y-%m-%d}",
                          str(p["rows"]), _fmt(p["new"]), _fmt(p["old"]), "–" if gain is None else f"{gain:+.3f}")
        console.print(table)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
