"""The decision-quality harness: real datasets with documented changes replayed through the monitor.

`datasets` holds the datasets and their documented changes, `scenario` sets one up as a new user would,
`backfill` runs every window through the monitor flow (and Evidently's default rule), `evaluation` scores
the verdicts against the change, `report` prints the table. `benchmarks/decision_quality.py` is the command.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.quality.backfill import WindowOutcome, monitor_history, recorded_requests
from benchmarks.quality.datasets import DATASETS, Dataset
from benchmarks.quality.evaluation import DatasetResult, summarise
from benchmarks.quality.scenario import set_up

__all__ = ["DATASETS", "Dataset", "DatasetResult", "WindowOutcome", "driftflow_environment", "evaluate_dataset"]

VARIABLES = ("DRIFTFLOW_HOME", "DRIFTFLOW_WAREHOUSE_URL", "DRIFTFLOW_STORE_URL", "DRIFTFLOW_PROJECT_DIR",
             "DRIFTFLOW_ARTIFACTS")


@contextmanager
def driftflow_environment(home: Path) -> Iterator[str]:
    """driftflow's settings pointed at `home` (SQLite warehouse and store, project folder, artifacts) for the
    duration; yields the SQLite URL. The previous values come back afterwards."""
    saved = {name: os.environ.get(name) for name in VARIABLES}
    url = f"sqlite:///{home / 'warehouse.db'}"
    os.environ.update({"DRIFTFLOW_HOME": str(home), "DRIFTFLOW_WAREHOUSE_URL": url, "DRIFTFLOW_STORE_URL": url,
                       "DRIFTFLOW_PROJECT_DIR": str(home / "project")})
    os.environ.pop("DRIFTFLOW_ARTIFACTS", None)
    try:
        yield url
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def evaluate_dataset(dataset: Dataset, home: Path, *, actions: bool = False,
                     progress: Callable[[WindowOutcome], None] = lambda _outcome: None) -> DatasetResult:
    """Set the dataset up under `home`, monitor every scheduled window, and score the verdicts."""
    from tasks.config import load_model_config

    home.mkdir(parents=True, exist_ok=True)
    with driftflow_environment(home) as url:
        scenario = set_up(dataset, home / "project", url)
        outcomes = monitor_history(scenario, actions=actions, progress=progress)
        cooldown = load_model_config(dataset.name, scenario.config_dir).policy.cooldown
        recorded = recorded_requests(url, dataset.name) if actions else None
    return summarise(dataset, outcomes, cooldown, recorded)
