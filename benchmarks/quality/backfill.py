"""Every scheduled window of a scenario through driftflow's monitor flow, and through Evidently's default rule.

The monitor runs in this process exactly as `driftflow backfill` runs it (`flows.monitor.monitor`, one
flow run per window end, oldest first). Next to it, each window is judged the plain way: Evidently's
`DataDriftPreset()` with its defaults on the same reference and window rows, dataset drift when at least
half of the columns drifted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from benchmarks.quality.datasets import Dataset
from benchmarks.quality.scenario import PREDICTION, Scenario, in_period

EVIDENTLY_DRIFT_SHARE = 0.5  # DataDriftPreset's default drift_share


@dataclass(frozen=True)
class WindowOutcome:
    """What driftflow decided for one window, what Evidently's default rule says, and the served truth."""

    start: datetime
    end: datetime
    verdict: str
    rows: int
    reason: str
    evidently_share: float | None  # share of drifted columns under DataDriftPreset() defaults
    served_metric: float | None  # the logged predictions' metric on the window's labels

    @property
    def evidently_drift(self) -> bool:
        return self.evidently_share is not None and self.evidently_share >= EVIDENTLY_DRIFT_SHARE


def metric_value(metric: str, target: pd.Series, predicted: pd.Series) -> float | None:
    """The dataset's metric of the logged predictions (None where it is undefined)."""
    from sklearn.metrics import mean_absolute_error, roc_auc_score, root_mean_squared_error

    if len(target) == 0 or (metric == "roc_auc" and target.nunique() < 2):
        return None
    functions: dict[str, Callable[[Any, Any], float]] = {
        "mae": mean_absolute_error, "rmse": root_mean_squared_error, "roc_auc": roc_auc_score}
    return float(functions[metric](target, predicted))


def evidently_share(dataset: Dataset, reference: pd.DataFrame, current: pd.DataFrame) -> float | None:
    """Share of drifted columns (features and prediction) under `DataDriftPreset()` with every default."""
    from evidently import DataDefinition, Report
    from evidently import Dataset as EvidentlyDataset
    from evidently.presets import DataDriftPreset

    if current.empty or reference.empty:
        return None
    numeric, categorical = [*dataset.numeric, PREDICTION], dataset.categorical
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)

    def frame(rows: pd.DataFrame) -> pd.DataFrame:
        return rows[numeric + categorical].astype({c: "float64" for c in numeric} | {c: object for c in categorical})

    with np.errstate(divide="ignore", invalid="ignore"):
        snapshot = Report([DataDriftPreset()]).run(
            current_data=EvidentlyDataset.from_pandas(frame(current), data_definition=definition),
            reference_data=EvidentlyDataset.from_pandas(frame(reference), data_definition=definition))
    for metric in json.loads(snapshot.json())["metrics"]:
        if metric["config"]["type"].rsplit(":", 1)[-1] == "DriftedColumnsCount":
            return float(metric["value"]["share"])
    raise LookupError("Evidently's DataDriftPreset returned no DriftedColumnsCount")


def _first_reason(summary: dict[str, Any]) -> str:
    reasons = summary.get("reasons") or [""]
    return str(reasons[0])


def monitor_history(scenario: Scenario, *, actions: bool = False,
                    progress: Callable[[WindowOutcome], None] = lambda _outcome: None) -> list[WindowOutcome]:
    """Run the monitor flow on every scheduled window of the scenario, oldest first."""
    from flows.monitor import monitor
    from tasks.config import load_model_config
    from tasks.schedule import window_ends

    dataset, log = scenario.dataset, scenario.log
    config = load_model_config(scenario.model, scenario.config_dir)
    reference = in_period(log, dataset.reference)
    outcomes = []
    for end in window_ends(config, *dataset.monitor):
        summary: dict[str, Any] = monitor(model=scenario.model, window_end=end, actions=actions)  # type: ignore[assignment]
        start = datetime.fromisoformat(summary["window_start"])
        rows = in_period(log, (start, end))
        outcome = WindowOutcome(
            start=start, end=end, verdict=str(summary["verdict"]), rows=int(summary["row_count"]),
            reason=_first_reason(summary), evidently_share=evidently_share(dataset, reference, rows),
            served_metric=metric_value(dataset.metric, rows[dataset.target], rows[PREDICTION]))
        outcomes.append(outcome)
        progress(outcome)
    return outcomes


def recorded_requests(store_url: str, model: str) -> dict[str, int]:
    """Retrain requests the store holds for the model, counted by status (`retrain_requests` table)."""
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT status, COUNT(*) FROM retrain_requests WHERE model = :model "
                                        "GROUP BY status ORDER BY status"), {"model": model})
            return {str(status): int(count) for status, count in rows}
    finally:
        engine.dispose()
