"""A replayed window scored by the champion of its time, not read from the logged predictions.

A replay (`backfill --actions`) asks what driftflow would have done on a history. The history's log holds what
the serving system of the time predicted; once the replay promotes a model, production would have served the
new champion's predictions instead. So where the champion of the window's time has a model file and the window
has every feature, its predictions replace the logged ones, in the window and in its labelled rows, before
anything is validated or measured. The record keeps the version that scored (`monitor_runs.scored_by`), and a
rerun of that window scores with the same version again: it reproduces the replay's verdict.

A champion registered by its logged predictions (`register --logged`) made the log: the log is measured, as
it is. Where a champion with a model file cannot score (the file is gone, a feature is missing, the model
fails on the rows), the logged predictions are measured and the reasons say why.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.errors import DriftflowError
from tasks.registry.model_files import load_estimator
from tasks.registry.versions import version_row
from tasks.results import WindowData
from tasks.retrain.trainers import predict

CACHED_MODELS = 4  # a replay scores window after window with one champion: its file is read once
_models: OrderedDict[str, Any] = OrderedDict()


@dataclass(frozen=True)
class Rescored:
    """The window as it is measured, the version that scored it (None: the logged predictions), and the note
    the reasons carry."""

    data: WindowData
    version: int | None
    note: str | None


def rescore_window(store: sa.Engine, config: ModelConfig, data: WindowData, version: int) -> Rescored:
    """`data` with its predictions (window and labelled rows) made by `version`, or as logged with the reason
    it could not be scored."""
    row = version_row(store, config.name, version)
    if row is not None and row["kind"] == "logged" and not row.get("artifact_path"):
        return Rescored(data, None, None)  # the log holds this version's own predictions
    problem = _cannot_score(config, data)
    model = None
    if problem is None:
        model, problem = _estimator(config, version, row)
    if model is None:
        return Rescored(data, None, f"replay: v{version} could not score the window ({problem}); the logged "
                                    "predictions are measured")
    try:
        current = _scored(model, data.current, config)
        labelled = _scored(model, data.labelled, config)
    except Exception as exc:  # the user's estimator on the user's rows: whatever it raises is the reason
        return Rescored(data, None, f"replay: v{version} failed to score the window ({type(exc).__name__}: "
                                    f"{exc}); the logged predictions are measured")
    return Rescored(replace(data, current=current, labelled=labelled), version,
                    f"replay: predictions made by v{version}, the champion at this window, not read from the log")


def _cannot_score(config: ModelConfig, data: WindowData) -> str | None:
    if config.task not in ("classification", "regression"):
        return f"a {config.task} model's per-class probabilities are read from the log only"
    for frame, rows in ((data.current, "window"), (data.labelled, "labelled rows")):
        missing = [c for c in config.columns.features if c not in frame] if len(frame) else []
        if missing:
            return f"the {rows} lack {', '.join(missing)}"
    return None


def _estimator(config: ModelConfig, version: int, row: dict[str, Any] | None) -> tuple[Any, str | None]:
    if row is None:
        return None, f"no version {version} in the registry"
    location = str(row.get("artifact_path") or "")
    if location in _models:
        _models.move_to_end(location)
        return _models[location], None
    try:
        model = load_estimator(row)
    except DriftflowError as exc:
        return None, str(exc)
    _models[location] = model
    while len(_models) > CACHED_MODELS:
        _models.popitem(last=False)
    return model, None


def _scored(model: Any, rows: pd.DataFrame, config: ModelConfig) -> pd.DataFrame:
    if rows.empty:
        return rows
    scored = rows.copy(deep=False)
    scored[config.columns.prediction] = predict(model, rows, config)
    return scored
