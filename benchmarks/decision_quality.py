"""How good are driftflow's verdicts? Real datasets with a documented change, and a negative control.

    .venv/bin/python benchmarks/decision_quality.py                       # every dataset (~15 min)
    .venv/bin/python benchmarks/decision_quality.py --dataset measles --dataset rain
    .venv/bin/python benchmarks/decision_quality.py --markdown docs/decision-quality.md   # refresh the doc

Each dataset is set up as a new user would (benchmarks/quality/scenario.py): its table becomes an inference
log in a SQLite warehouse under a temporary DRIFTFLOW_HOME, scored by a model trained on its first period;
the model's YAML and a minimal suite use the shipped defaults. Every scheduled window then goes through the
monitor flow in this process (as `driftflow backfill` runs it), and through Evidently's default
dataset-drift rule for comparison. The table counts false `drift` verdicts before the documented change,
the delay to the first `drift` after it, and the retrain requests the verdicts make.

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


if __name__ == "__main__":
    sys.exit(main())
