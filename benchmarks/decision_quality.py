"""How good are driftflow's verdicts? Real datasets with a documented change, and a negative control.

    .venv/bin/python benchmarks/decision_quality.py                       # every dataset (~15 min)
    .venv/bin/python benchmarks/decision_quality.py --dataset measles --dataset rain
    .venv/bin/python benchmarks/decision_quality.py --markdown docs/decision-quality.md   # refresh the doc
    .venv/bin/python benchmarks/decision_quality.py --replay   # the loop closed: retrains run, promotions judged

Each dataset is set up as a new user would (benchmarks/quality/scenario.py): its table becomes an inference
log in a SQLite warehouse under a temporary DRIFTFLOW_HOME, scored by a model trained on its first period;
the model's YAML and a minimal suite use the shipped defaults. Every scheduled window then goes through the
monitor flow in this process (as `driftflow backfill` runs it), and through Evidently's default
dataset-drift rule for comparison. The table counts false `drift` verdicts before the documented change,
the delay to the first `drift` after it, and the retrain requests the verdicts make.

`--replay` closes the loop instead (benchmarks/quality/replay.py): the serving model is registered from its
file, each accepted retrain runs before the next window, and each promotion is judged on the windows it served.

Needs the `bench` dependency group (`uv sync --group bench`; installed by `make install`).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: make `benchmarks` importable like `tasks` and `flows`
    sys.path.insert(0, str(PROJECT))


def quiet_prefect(root: Path) -> None:
    """Telemetry off, Prefect's home in the run's folder, only warnings on the console (before importing it)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(root / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")  # a busy machine is slow
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS", "CONSOLE_TASK_RUNS"):
        os.environ.setdefault(f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL", "WARNING")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", action="append", help="a dataset to run (repeatable; default: all)")
    parser.add_argument("--markdown", type=Path, help="write the table here (between the markers if present)")
    parser.add_argument("--actions", action="store_true",
                        help="monitor with actions on (retrain requests through the real path) and report "
                             "what the store recorded")
    parser.add_argument("--replay", action="store_true",
                        help="replay each history with the loop closed (retrains run in process) and judge each "
                             "promotion on the windows it served; late labels shown on --late-label")
    parser.add_argument("--late-label", default="rain", help="with --replay: the dataset whose third window's "
                        "labels arrive after the replay (default: rain)")
    parser.add_argument("--keep", type=Path, help="keep the warehouses, stores and reports in this folder")
    args = parser.parse_args(argv)

    root = args.keep or Path(tempfile.mkdtemp(prefix="driftflow-quality-"))
    (root / "prefect").mkdir(parents=True, exist_ok=True)
    quiet_prefect(root)
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from benchmarks.quality import DATASETS, evaluate_dataset
    from benchmarks.quality.report import markdown_table, text_table, write_markdown

    names = args.dataset or list(DATASETS)
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        parser.error(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(DATASETS)}")
    if args.replay:
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            return replay(names, root, args.late_label, keep=args.keep is not None)
    results = []
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):  # short runs: no heartbeat join
        for name in names:
            started = time.perf_counter()
            print(f"{name}: setting up and monitoring…", file=sys.stderr, flush=True)
            results.append(evaluate_dataset(
                DATASETS[name], root / name, actions=args.actions,
                progress=lambda o: print(f"  {o.end:%Y-%m-%d} {o.verdict:<17} {o.rows:>5} rows  {o.reason[:90]}",
                                         file=sys.stderr, flush=True)))
            print(f"{name}: {results[-1].windows} windows in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
            if args.keep is None:  # every window leaves a few MB of Evidently HTML behind
                shutil.rmtree(root / name, ignore_errors=True)
    print(text_table(results))
    if args.markdown:
        command = "python benchmarks/decision_quality.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
        write_markdown(args.markdown, markdown_table(results, command.strip()))
        print(f"\nwrote {args.markdown}")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def replay(names: list[str], root: Path, late_label: str, *, keep: bool) -> int:
    """The closed-loop replay of each dataset, then its tables (markdown, as docs/decision-quality.md shows them)."""
    from benchmarks.quality import DATASETS
    from benchmarks.quality.replay import replay_dataset, replay_tables

    def progress(window: dict[str, Any]) -> None:
        request = window.get("retrain") or {}
        print(f"  {window['window_end'][:10]} {window['verdict']:<17} {request.get('status', '')}",
              file=sys.stderr, flush=True)

    results = []
    for name in names:
        print(f"{name}: setting up and replaying with the loop closed…", file=sys.stderr, flush=True)
        results.append(replay_dataset(DATASETS[name], root / name, late_label=name == late_label,
                                      progress=progress))
        print(f"{name}: {results[-1].windows} windows in {results[-1].seconds:.0f} s", file=sys.stderr, flush=True)
        if not keep:
            shutil.rmtree(root / name, ignore_errors=True)
    print(replay_tables(results))
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
