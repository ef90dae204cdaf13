"""The demo's closing summary: weeks and verdicts, retrains, and what each promotion bought."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(console: Console, result: Any, promotions: list[dict[str, Any]]) -> None:
    """Print the replay's numbers; every table fits an 80-column terminal."""
    weeks, retrains = result.weeks, result.retrains
    if not weeks:
        console.print("no weeks replayed")
        return
    verdicts = Counter(w["verdict"] for w in weeks)
    requests = [w["retrain"] for w in weeks if w.get("retrain")]
    accepted = [r for r in requests if r["status"] != "refused"]
    per_window = Counter(w["window_end"] for w in weeks if w.get("retrain"))
    console.print(f"\nReplayed {len(weeks)} weeks "
                  f"({weeks[0]['window_end'][:10]} … {weeks[-1]['window_end'][:10]})")
    console.print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    console.print(f"retrains requested: {len(requests)} (accepted {len(accepted)}, refused "
                  f"{len(requests) - len(accepted)}) · run: {len(retrains)} · promoted: "
                  f"{sum(r['outcome'] == 'promoted' for r in retrains)} · rejected: "
                  f"{sum(r['outcome'] == 'rejected' for r in retrains)} · most requests for one week: "
                  f"{max(per_window.values(), default=0)}")
    if retrains:
        metric = retrains[0]["metric"]
        table = Table(title=f"Retrains ({metric} on the same most-recent holdout)")
        for header in ("window", "outcome", "challenger", "champion"):
            table.add_column(header)
        for r in retrains:
            table.add_row(r["window_end"][:10], r["outcome"], f"v{r['version']} {_fmt(r['challenger_score'])}",
                          f"v{r['champion_version']} {_fmt(r['champion_score'])}")
        console.print(table)
    if promotions:
        table = Table(title="Each promotion on the weeks it served: new vs replaced champion")
        for header in ("new", "old", "served", "flights", "new", "old", "gain"):
            table.add_column(header)
        for p in promotions:
            table.add_row(f"v{p['promoted']}", f"v{p['replaced']}", f"{p['from']:%m-%d}…{p['to']:%m-%d}",
                          str(p["rows"]), _fmt(p["new"]), _fmt(p["old"]), _gain(p["new"], p["old"]))
        console.print(table)
        rows = sum(p["rows"] for p in promotions)
        new = sum(p["new"] * p["rows"] for p in promotions if p["new"] is not None) / rows
        old = sum(p["old"] * p["rows"] for p in promotions if p["old"] is not None) / rows
        console.print(f"After promotions, on {rows} labelled flights: new champions {new:.3f}, the champions "
                      f"they replaced would have scored {old:.3f} ({_gain(new, old)}).")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _gain(new: float | None, old: float | None) -> str:
    return "–" if new is None or old is None else f"{new - old:+.3f}"
