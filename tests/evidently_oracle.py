"""Evidently as the oracle: run ValueDrift with pinned methods and read each score and decision by name."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from typing import Any
from unittest.mock import patch

import numpy as np
import pandas as pd

from tasks.monitor.profile import label

EVIDENTLY_NAMES: dict[str, str] = {}  # the config spells every method as Evidently registers it


def plain(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> pd.DataFrame:
    """Values as the monitor hands them to Evidently: float64 (inf as NaN) and normalised labels."""
    out = {c: frame[c].astype("float64").replace([np.inf, -np.inf], np.nan) for c in numeric}
    out |= {c: frame[c].astype(object).map(label) for c in categorical}
    return pd.DataFrame(out)


def evidently_scores(reference: pd.DataFrame, current: pd.DataFrame,
                     pinned: Sequence[tuple[str, str, str, float]]) -> dict[tuple[str, str], tuple[float, bool]]:
    """(column, method) → (score, drifted) from one Evidently report of ValueDrift metrics.

    `pinned` holds (column, kind, method, threshold) with kind 'numeric' or 'categorical'.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.metrics.column_statistics import ValueDriftCalculation

    numeric = sorted({c for c, k, _, _ in pinned if k == "numeric"})
    categorical = sorted({c for c, k, _, _ in pinned if k == "categorical"})
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    metrics = [ValueDrift(column=c, method=EVIDENTLY_NAMES.get(m, m), threshold=t) for c, _, m, t in pinned]
    # The widgets (plotly figures, ~80 % of a ValueDrift's time) play no part in its score or decision.
    with warnings.catch_warnings(), np.errstate(all="ignore"), \
            patch.object(ValueDriftCalculation, "_render", lambda *_: []):
        warnings.simplefilter("ignore")
        snapshot = Report(metrics, include_tests=True).run(
            current_data=Dataset.from_pandas(plain(current, numeric, categorical), data_definition=definition),
            reference_data=Dataset.from_pandas(plain(reference, numeric, categorical), data_definition=definition))
    payload: dict[str, Any] = json.loads(snapshot.json())
    failed = {t["metric_config"]["metric_id"]: t["status"] == "FAIL" for t in payload["tests"]}
    names = {v: k for k, v in EVIDENTLY_NAMES.items()}
    found = {}
    for metric in payload["metrics"]:
        config = metric["config"]
        method = names.get(config["method"], config["method"])
        found[(config["column"], method)] = (float(metric["value"]), failed[metric["id"]])
    return found
