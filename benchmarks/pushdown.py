"""Drift scores of one large window: rows pulled from PostgreSQL, or aggregates counted inside it.

    uv run python benchmarks/pushdown.py                   # the 1M-row window of monitor_window.py
    uv run python benchmarks/pushdown.py --rows 100000     # a quick run

It reuses (or builds) `monitor_window.py`'s table, model and registered reference, then scores every
monitored column of the window (17 numeric features and the prediction with Wasserstein, 5 categorical
features and the label with Jensen-Shannon) against the stored reference profile, each approach in a fresh
child process:

- pull: `read_range` (ConnectorX, Arrow) of the columns, then `score_column` per column, as the monitor does;
- aggregates: `window_aggregates` (per numeric column counts, sums, minima and maxima per reference bucket with
  `width_bucket`; per categorical column counts per value, a few queries at once), then `score_aggregate`.

It prints seconds, peak RSS, what left the warehouse, and per column the difference between the two scores
against the stated error bound, and whether the decisions agree.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from monitor_window import MODEL, THRESHOLD, WINDOW_END, on_the_window, pinned_columns, stored_profile


def child(approach: str) -> dict[str, Any]:
    """Score the window one way; returns seconds, bytes that left the warehouse and the scores."""
    from tasks.config import load_model_config
    from tasks.monitor.scores import score_column
    from tasks.monitor.scores_pushdown import certain, score_aggregate
    from tasks.source.pushdown import NumericBuckets, window_aggregates
    from tasks.source.query import read_range

    config = load_model_config(MODEL)
    profile = stored_profile()
    pinned = [(column, chosen) for column, _, chosen in pinned_columns(config)]
    start, end = WINDOW_END - timedelta(days=7), WINDOW_END
    names = [c for c, _ in pinned]
    began = time.perf_counter()
    if approach == "pull":
        frame = read_range(config, names, start, end)
        fetched = time.perf_counter()
        moved = int(frame.memory_usage(deep=True).sum())
        scores = [score_column(m, profile[c], frame[c], THRESHOLD) for c, m in pinned]
    else:
        aggregates = window_aggregates(config, start, end, profile, names)
        fetched = time.perf_counter()
        moved = sum(a.counts.nbytes * 5 if isinstance(a, NumericBuckets) else 16 * len(a.counts)
                    for a in aggregates.columns.values())  # 5 numbers per bucket, a value and a count per category
        scores = [score_aggregate(m, profile[c], aggregates.columns[c], THRESHOLD) for c, m in pinned]
    done = time.perf_counter()
    return {"fetch_s": fetched - began, "score_s": done - fetched, "work_s": done - began, "moved_mb": moved / 2**20,
            "scores": {s.column: [s.score, s.drifted, s.error, certain(s)] for s in scores}}


def main() -> None:
    runs = on_the_window(__file__, __doc__, child, ("pull", "aggregates"))
    if runs is None:
        return
    print(f"\n{'approach':<12}{'process s':>10}{'work s':>8}{'fetch s':>9}{'score s':>9}{'peak RSS MB':>13}"
          f"{'left the warehouse MB':>23}")
    for name, run in runs.items():
        r = run.result
        print(f"{name:<12}{run.wall:>10.1f}{r['work_s']:>8.2f}{r['fetch_s']:>9.2f}{r['score_s']:>9.2f}"
              f"{run.peak_rss_mb:>13,.0f}{r['moved_mb']:>23,.1f}")
    pulled, counted = runs["pull"].result["scores"], runs["aggregates"].result["scores"]
    print(f"\n{'column':<12}{'rows score':>12}{'aggregates':>12}{'|diff|':>10}{'bound':>10}  decision")
    agree = 0
    for column, (exact, drifted, _, _) in pulled.items():
        score, decided, error, sure = counted[column]
        agree += decided == drifted
        shown = f"{error:.2e}" if error is not None else "exact"
        print(f"{column:<12}{exact:>12.6f}{score:>12.6f}{abs(score - exact):>10.2e}{shown:>10}  "
              f"{'same' if decided == drifted else 'DIFFERENT'}{'' if sure else ' (within the bound)'}")
    within = all(abs(counted[c][0] - pulled[c][0]) <= (counted[c][2] or 0.0) + 1e-12 for c in pulled)
    print(f"\nsame decision on {agree} of {len(pulled)} columns; every difference within its bound: "
          f"{'yes' if within else 'NO'}")


if __name__ == "__main__":
    main()
