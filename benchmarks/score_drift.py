"""Score drift for 25 columns of a 1M-row window: driftflow's profile path against Evidently's preset.

    .venv/bin/python benchmarks/score_drift.py [--rows 1000000] [--reference-rows 100000] [--skip-evidently]

Both approaches get the same synthetic frames (20 numeric columns of assorted shapes, 5 categorical
columns of 3 to 2,000 categories, a few columns shifted in the window) with the same pinned methods
(Wasserstein and Jensen-Shannon, threshold 0.1). Each runs in its own fresh process, so time and peak RSS
belong to that approach alone:

- driftflow: `build_profile` on the reference (timed apart: it runs once per reference version), then
  `score_column` for every column of the window;
- Evidently: `Report([DataDriftPreset(...)])` on the reference and window frames, as the monitor ran it.

Wall and CPU seconds are printed (CPU time does not grow when other processes share the cores; the load
average is printed too). Peak RSS is the process's high-water mark while scoring (reset once the data is
built), and the figure beside it the RSS the data already took. The script ends by checking both gave the
same scores and decisions.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = [f"x{i:02d}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
CARDINALITY = [3, 10, 50, 300, 2000]
SHIFTED = {"x00": 0.3, "x07": 0.05, "c1": 0.2}  # mean shift in std units / share of rows recategorised


def make_frame(rows: int, seed: int, shift: bool) -> pd.DataFrame:
    """Numeric columns: normal, skewed, heavy-tailed, discrete and zero-inflated; categorical: Zipf-like."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        shape = i % 5
        if shape == 0:
            values = rng.normal(10 * i, 1 + i, rows)
        elif shape == 1:
            values = rng.lognormal(1, 0.6, rows)
        elif shape == 2:
            values = rng.standard_t(3, rows)
        elif shape == 3:
            values = rng.integers(0, 24, rows).astype("float64")
        else:
            values = np.where(rng.random(rows) < 0.7, 0.0, rng.exponential(3, rows))
        if shift and name in SHIFTED:
            values = values + SHIFTED[name] * np.std(values)
        values[rng.random(rows) < 0.01] = np.nan
        data[name] = values
    for name, size in zip(CATEGORICAL, CARDINALITY, strict=True):
        weights = 1 / np.arange(1, size + 1)
        labels = np.array([f"{name}_{k}" for k in range(size)], dtype=object)
        values = labels[rng.choice(size, rows, p=weights / weights.sum())]
        if shift and name in SHIFTED:
            values[rng.random(rows) < SHIFTED[name]] = labels[-1]
        data[name] = values
    return pd.DataFrame(data)


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Reset the process's peak RSS (Linux: write 5 to /proc/self/clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def run_driftflow(rows: int, reference_rows: int, repeat: int) -> dict[str, Any]:
    from tasks.monitor.profile import build_profile
    from tasks.monitor.scores import ColumnScore, score_column

    reference, current = make_frame(reference_rows, 0, False), make_frame(rows, 1, True)
    started = time.perf_counter()
    profile = build_profile(reference, NUMERIC, CATEGORICAL)
    profile_seconds = time.perf_counter() - started
    size = len(profile.to_bytes())
    del reference
    data_mb = rss_mb("VmRSS")
    reset_peak()
    runs = []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        scores = {}
        for name in [*NUMERIC, *CATEGORICAL]:
            result = score_column("wasserstein" if name in NUMERIC else "jensenshannon", profile[name],
                                  current[name], 0.1)
            assert isinstance(result, ColumnScore), result
            scores[name] = (result.score, result.drifted)
        runs.append((time.perf_counter() - started, time.process_time() - cpu))
    seconds, cpu_seconds = min(runs)
    return {"seconds": seconds, "cpu": cpu_seconds, "peak_mb": rss_mb("VmHWM"), "data_mb": data_mb,
            "scores": scores, "profile_seconds": profile_seconds, "profile_bytes": size}


def run_evidently(rows: int, reference_rows: int) -> dict[str, Any]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, current = make_frame(reference_rows, 0, False), make_frame(rows, 1, True)
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    data_mb = rss_mb("VmRSS")
    reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    preset = DataDriftPreset(columns=[*NUMERIC, *CATEGORICAL], num_method="wasserstein",
                             cat_method="jensenshannon", threshold=0.1)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        snapshot = Report([preset], include_tests=True).run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition))
    payload = json.loads(snapshot.json())
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    failed = {t["metric_config"]["metric_id"]: t["status"] == "FAIL" for t in payload["tests"]}
    scores = {m["config"]["column"]: (float(m["value"]), failed[m["id"]]) for m in payload["metrics"]
              if m["config"]["type"].endswith("ValueDrift")}
    return {"seconds": seconds, "cpu": cpu_seconds, "peak_mb": rss_mb("VmHWM"), "data_mb": data_mb,
            "scores": scores}


def in_fresh_process(target: Any, *args: Any) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(target, args)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="driftflow runs; the fastest counts")
    parser.add_argument("--skip-evidently", action="store_true", help="time driftflow's path only")
    args = parser.parse_args()
    print(f"window {args.rows:,} rows, reference {args.reference_rows:,} rows, "
          f"{len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical columns; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ours = in_fresh_process(run_driftflow, args.rows, args.reference_rows, args.repeat)
    print(f"driftflow profile (once per reference): {ours['profile_seconds']:.2f} s, "
          f"{ours['profile_bytes'] / 1e6:.1f} MB serialised")
    print(f"{'approach':<30}{'wall s':>8}{'CPU s':>8}{'peak RSS MB':>13}{'data MB':>9}")
    row = "{:<30}{seconds:>8.2f}{cpu:>8.2f}{peak_mb:>13.0f}{data_mb:>9.0f}"
    print(row.format(f"driftflow (best of {args.repeat})", **ours))
    if args.skip_evidently:
        return
    theirs = in_fresh_process(run_evidently, args.rows, args.reference_rows)
    print(row.format("Evidently DataDriftPreset", **theirs))
    print(f"driftflow is {theirs['seconds'] / ours['seconds']:.1f}× faster (CPU {theirs['cpu'] / ours['cpu']:.1f}×), "
          f"peak RSS {theirs['peak_mb'] / ours['peak_mb']:.1f}× lower; load average now {os.getloadavg()[0]:.1f}")
    gaps = {c: abs(ours["scores"][c][0] - theirs["scores"][c][0]) / max(abs(theirs["scores"][c][0]), 1e-12)
            for c in ours["scores"]}
    same = [c for c in ours["scores"] if ours["scores"][c][1] == theirs["scores"][c][1]]
    worst = max(gaps, key=gaps.__getitem__)
    drifted = sorted(c for c in ours["scores"] if ours["scores"][c][1])
    print(f"largest relative score difference {gaps[worst]:.1e} ({worst}); same decision on {len(same)} of "
          f"{len(gaps)} columns; drifted: {', '.join(drifted) or 'none'}")


if __name__ == "__main__":
    main()
