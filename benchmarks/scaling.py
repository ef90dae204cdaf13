"""What a monitor run costs against window rows, monitored columns and the length of the model's history.

    uv run python benchmarks/scaling.py                          # windows of 125k to 1M rows, ~10 minutes
    uv run python benchmarks/scaling.py --quick                  # small windows, a fast check
    uv run python benchmarks/scaling.py --only rows,history      # some dimensions only

Every measured run is `flows.monitor.monitor` in a fresh child process against a Prefect server this script
starts: monitor_window.py's `driftflow` child, on its tables (`bench_window_<rows>_<reference rows>`, built
with COPY when missing) and its model and suite, in a project folder per measurement under
`.driftflow/bench/scaling-*` (SQLite store, the reference registered once through `register_model`).

- rows: the same 22 features on windows of 125k, 250k, 500k and 1M rows (`--quick`: 25k to 100k);
- columns: one window (250k rows; `--quick`: 50k) with the model monitoring 5, 11 or 22 of its features (the
  suite keeps the expectations of the columns read);
- history: one small window (125k rows; `--quick`: 25k) after the store already holds 0, 10, 100 and 1,000
  recorded windows of the model (copies of a real record, a week apart, inserted directly), each timed as
  the window's first record and again as a rerun of the recorded window.

Rows and columns keep the fastest of `--repeat` runs (default 2). Before each first-record run
the model's recorded windows are deleted, so every run writes a new record. It prints, per run, the work
seconds (after imports), their CPU seconds and the child's peak RSS; for rows and columns also the seconds per
100k rows or per feature, what each size added over the one before, and a least-squares line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import monitor_window
from bench_support import DEFAULT_URL, QUIET, ChildRun, ensure_database, load_average, prefect_server, run_child
from monitor_window import CATEGORICAL, MODEL, NUMERIC, WINDOW_END, ensure_table, model_yaml, suite

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_ROWS = 100_000
FEATURES = [5, 11, 22]
HISTORY = [0, 10, 100, 1000]


@dataclass(frozen=True)
class Sizes:
    """The windows measured: the rows series, the window of the columns series, the window of the history."""

    rows: tuple[int, ...]
    columns_rows: int
    history_rows: int


FULL = Sizes((125_000, 250_000, 500_000, 1_000_000), 250_000, 125_000)
QUICK = Sizes((25_000, 50_000, 100_000), 50_000, 25_000)


@dataclass(frozen=True)
class Project:
    """One model's project folder: the environment its children run in, and its store."""

    env: dict[str, str]
    store: sa.Engine


def features(count: int) -> tuple[list[str], list[str]]:
    """`count` of the 22 features, numeric and categorical in about the table's proportion (17 to 5)."""
    numeric = max(1, round(count * len(NUMERIC) / (len(NUMERIC) + len(CATEGORICAL))))
    return NUMERIC[:numeric], CATEGORICAL[:count - numeric]


def project(url: sa.URL, name: str, rows: int, feature_count: int = 22) -> Project:
    """The window's table (built when missing), the model over `feature_count` features and its suite in
    `.driftflow/bench/scaling-<name>`, and the reference week registered (once: later runs reuse it)."""
    table = f"bench_window_{rows}_{REFERENCE_ROWS}"
    ensure_table(url, table, rows, REFERENCE_ROWS)
    folder = ROOT / ".driftflow" / "bench" / f"scaling-{name}"
    (folder / "deployments" / "models").mkdir(parents=True, exist_ok=True)
    (folder / "expectations").mkdir(parents=True, exist_ok=True)
    (folder / "home").mkdir(exist_ok=True)
    numeric, categorical = features(feature_count)
    read = {"id", "ts", *numeric, *categorical, "prediction", "target"}
    expectations = suite()
    expectations["expectations"] = [e for e in expectations["expectations"]
                                    if "column" not in e["kwargs"] or e["kwargs"]["column"] in read]
    (folder / "deployments" / "models" / f"{MODEL}.yaml").write_text(model_yaml(table, MODEL, numeric, categorical))
    (folder / "expectations" / f"{MODEL}.json").write_text(json.dumps(expectations, indent=2))
    store_url = f"sqlite:///{folder / 'home' / 'store.db'}"
    env = {**os.environ, **QUIET, "DRIFTFLOW_PROJECT_DIR": str(folder), "DRIFTFLOW_HOME": str(folder / "home"),
           "DRIFTFLOW_WAREHOUSE_URL": url.render_as_string(hide_password=False), "DRIFTFLOW_STORE_URL": store_url,
           "DRIFTFLOW_BENCH_TABLE": table}
    registered = run_child([monitor_window.__file__, "--child", "register"], env)
    print(f"{name}: {registered.result['note']}", flush=True)
    return Project(env, sa.create_engine(store_url))


def window_tables() -> list[sa.Table]:
    from tasks.store.schema import WINDOW_TABLES, monitor_runs, verdict_audit

    return [monitor_runs, *WINDOW_TABLES, verdict_audit]


def clear_windows(store: sa.Engine) -> None:
    """Forget every recorded window of the model (and their audit rows)."""
    with store.begin() as conn:
        for table in window_tables():
            conn.execute(sa.delete(table).where(table.c.model == MODEL))


def recorded(store: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """The rows each window table holds for the window ending WINDOW_END (table name -> rows)."""
    with store.connect() as conn:
        return {table.name: [dict(row._mapping) for row in conn.execute(sa.select(table).where(
            table.c.model == MODEL, table.c.window_end == WINDOW_END.replace(tzinfo=None)))]
            for table in window_tables()[:-1]}


def recorded_windows(store: sa.Engine) -> int:
    from tasks.store.schema import monitor_runs

    with store.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(monitor_runs)
                                .where(monitor_runs.c.model == MODEL)).scalar_one())


def add_history(store: sa.Engine, record: dict[str, list[dict[str, Any]]], count: int) -> None:
    """`count` copies of a recorded window, ending 1 to `count` weeks before WINDOW_END, in every window table."""
    shifted = ("window_end", "window_start", "labelled_start", "labelled_end")
    with store.begin() as conn:
        for table in window_tables()[:-1]:
            copies = []
            for week in range(1, count + 1):
                for row in record[table.name]:
                    copy = {k: v for k, v in row.items() if k != "id"}  # validation_results numbers its own
                    copy.update({k: row[k] - timedelta(weeks=week) for k in shifted if k in row})
                    copies.append(copy)
            if copies:
                conn.execute(sa.insert(table), copies)


def monitor_run(api_url: str, env: dict[str, str]) -> ChildRun:
    """monitor_window.py's `driftflow` child: the monitor flow on the window ending WINDOW_END."""
    run = run_child([monitor_window.__file__, "--child", "driftflow"], {**env, "PREFECT_API_URL": api_url})
    print(f"  {run.result['rows']:,} rows: work {run.result['work_s']:.1f} s, {run.result['verdict']} "
          f"(load average {load_average()})", flush=True)
    return run


def figures(run: ChildRun) -> str:
    return f"{run.result['work_s']:>8.2f}{run.result['work_cpu_s']:>11.2f}{run.peak_rss_mb:>13,.0f}"


def marginal(sizes: list[int], runs: list[ChildRun], key: str, unit: int) -> list[float | None]:
    """Seconds per `unit` each size added over the one before (None for the first)."""
    seconds = [float(r.result[key]) for r in runs]
    return [None, *((b - a) / (y - x) * unit
                    for x, y, a, b in zip(sizes, sizes[1:], seconds, seconds[1:], strict=False))]


def linear(label: str, sizes: list[int], runs: list[ChildRun], unit: int, unit_name: str) -> None:
    """One line: the least-squares line through the work (and CPU) seconds and its largest miss, the work
    seconds per unit of the largest size against the smallest, and what the last step added per unit against
    the first step."""
    if len(runs) < 3:
        return
    parts = []
    for key, name in (("work_s", "work s"), ("work_cpu_s", "CPU s")):
        seconds = np.array([float(r.result[key]) for r in runs])
        slope, fixed = np.polyfit(sizes, seconds, 1)
        miss = np.abs(seconds - (fixed + slope * np.array(sizes))).max()
        parts.append(f"{name} = {fixed:.2f} {slope * unit:+.3f} per {unit_name} (largest miss {miss:.2f} s)")
    work = [float(r.result["work_s"]) for r in runs]
    steps = marginal(sizes, runs, "work_s", unit)
    first, last = steps[1], steps[-1]
    step_ratio = f"{last / first:.2f}x" if first and last is not None else "–"
    print(f"{label}: {'; '.join(parts)}. Work s per {unit_name}, {sizes[-1]:,} against {sizes[0]:,}: "
          f"{(work[-1] / sizes[-1]) / (work[0] / sizes[0]):.2f}x; added per {unit_name}, last step against "
          f"first: {step_ratio}")


def best_first_record(api_url: str, done: Project, repeat: int) -> ChildRun:
    """The fastest (work seconds) of `repeat` runs, each the window's first record."""
    runs = []
    for _ in range(repeat):
        clear_windows(done.store)
        runs.append(monitor_run(api_url, done.env))
    return min(runs, key=lambda run: float(run.result["work_s"]))


def print_series(title: str, name: str, sizes: list[int], runs: list[ChildRun], unit: int, unit_name: str) -> None:
    """One row per size: work and CPU seconds, peak RSS, seconds per unit, and what each size added per unit."""
    added = marginal(sizes, runs, "work_s", unit)
    added_cpu = marginal(sizes, runs, "work_cpu_s", unit)
    per, more = f"s / {unit_name}", f"added s / {unit_name} (CPU)"
    print(f"\n{title}\n{name:>12}{'work s':>8}{'work CPU s':>11}{'peak RSS MB':>13}{per:>{len(per) + 2}}"
          f"{more:>{len(more) + 2}}")
    for size, run, plus, plus_cpu in zip(sizes, runs, added, added_cpu, strict=True):
        step = "–" if plus is None or plus_cpu is None else f"{plus:.3f} ({plus_cpu:.3f})"
        print(f"{size:>12,}{figures(run)}{run.result['work_s'] / size * unit:>{len(per) + 2}.3f}"
              f"{step:>{len(more) + 2}}")
    linear(name, sizes, runs, unit, unit_name)
    print_phases(sizes, runs)


def print_phases(sizes: list[int], runs: list[ChildRun]) -> None:
    """The monitor's task runs as the Prefect server recorded them (wall s, those of 0.05 s or more)."""
    print("task runs (wall s):")
    for size, run in zip(sizes, runs, strict=True):
        print(f"{size:>12,}: " + ", ".join(f"{k} {v:.2f}" for k, v in run.result["phases"].items()))


def by_rows(url: sa.URL, api_url: str, sizes: list[int], repeat: int) -> None:
    runs = [best_first_record(api_url, project(url, f"rows-{rows}", rows), repeat) for rows in sizes]
    print_series(f"22 features, best of {repeat}", "window rows", sizes, runs, 100_000, "100k rows")


def by_columns(url: sa.URL, api_url: str, rows: int, repeat: int) -> None:
    runs = [best_first_record(api_url, project(url, f"columns-{rows}-{count}", rows, count), repeat)
            for count in FEATURES]
    print_series(f"{rows:,}-row window, best of {repeat}", "features", FEATURES, runs, 1, "feature")


def by_history(url: sa.URL, api_url: str, rows: int) -> None:
    done = project(url, f"history-{rows}", rows)
    first: list[ChildRun] = []
    rerun: list[ChildRun] = []
    record: dict[str, list[dict[str, Any]]] = {}
    stored: list[int] = []
    for count in HISTORY:
        clear_windows(done.store)
        if count:
            add_history(done.store, record, count)
        stored.append(recorded_windows(done.store))
        print(f"history {count}:", flush=True)
        first.append(monitor_run(api_url, done.env))
        rerun.append(monitor_run(api_url, done.env))
        record = record or recorded(done.store)  # the first real record, copied as the history
    print(f"\n{rows:,}-row window\n{'recorded windows':>16}{'first record:':>14}{'work s':>8}{'work CPU s':>11}"
          f"{'peak RSS MB':>13}{'rerun:':>8}{'work s':>8}{'work CPU s':>11}{'peak RSS MB':>13}")
    for count, one, again in zip(stored, first, rerun, strict=True):
        print(f"{count:>16,}{'':>14}{figures(one)}{'':>8}{figures(again)}")
    print("first record, ", end="")
    print_phases(stored, first)
    work = [float(r.result["work_s"]) for r in first]
    rework = [float(r.result["work_s"]) for r in rerun]
    print(f"history: work s with {stored[-1]:,} recorded windows against {stored[1]:,}: first record "
          f"{work[-1] / work[1]:.2f}x, rerun {rework[-1] / rework[1]:.2f}x; slowest / fastest of all "
          f"{len(work) + len(rework)} runs {max(work + rework) / min(work + rework):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small windows (25k to 100k rows), a fast check")
    parser.add_argument("--only", default="rows,columns,history", help="dimensions to run, comma-separated")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs per window size and per feature count, the fastest kept (default 2)")
    parser.add_argument("--url", default=os.environ.get("DRIFTFLOW_BENCH_POSTGRES_URL", DEFAULT_URL))
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    wanted = [d.strip() for d in args.only.split(",") if d.strip()]
    if unknown := set(wanted) - {"rows", "columns", "history"}:
        parser.error(f"unknown dimensions {sorted(unknown)} (rows, columns, history)")
    url = sa.make_url(args.url)
    ensure_database(url)
    print(f"load average before: {load_average()}, {os.cpu_count()} cores", flush=True)
    with prefect_server(ROOT / ".driftflow" / "bench" / "scaling-prefect") as (api_url, _):
        for dimension in wanted:
            print(f"\n== {dimension}", flush=True)
            if dimension == "rows":
                by_rows(url, api_url, list(sizes.rows), args.repeat)
            elif dimension == "columns":
                by_columns(url, api_url, sizes.columns_rows, args.repeat)
            else:
                by_history(url, api_url, sizes.history_rows)
    print(f"\nload average after: {load_average()}")


if __name__ == "__main__":
    main()
