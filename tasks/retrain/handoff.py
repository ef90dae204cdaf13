"""Retraining through the user's own Prefect deployment (`retraining: {deployment: "train/my-model"}`).

The retrain flow runs that deployment with the training and holdout windows as parameters and waits for it.
The user's flow fits a model however it likes and hands it back with one call; driftflow then scores it on
the holdout, gates it against the champion, registers and re-baselines as for a built-in trainer:

    from datetime import datetime
    from prefect import flow
    from tasks.retrain.handoff import hand_back

    @flow
    def train(model: str, train_start: datetime, train_end: datetime,
              holdout_start: datetime, holdout_end: datetime, handoff: str) -> None:
        rows = ...  # your training rows with timestamps in [train_start, train_end): never the holdout
        estimator = ...  # fitted; predict_proba (classification) or predict (regression) on the feature columns
        hand_back(handoff, estimator)

The flow must accept exactly these six parameters. It must see the same DRIFTFLOW_ARTIFACTS as the retrain
flow (a shared folder or bucket): the estimator is stored there under the request's handoff key.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib

from tasks import artifacts
from tasks.errors import TrainerError
from tasks.registry.model_files import COMPRESS

KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
POLL_SECONDS = 2.0


def new_handoff_key(model: str) -> str:
    """A key unique to one retraining attempt: where that attempt's candidate is handed back."""
    return f"{model}-{uuid.uuid4().hex}"


def handoff_key(handoff: str) -> str:
    """The artifact key a candidate is handed back under: `handoff/<handoff>.joblib`."""
    if not KEY.match(handoff):
        raise TrainerError(f"{handoff!r} is not a handoff key given by driftflow's retrain flow")
    return f"handoff/{handoff}.joblib"


def hand_back(handoff: str, estimator: Any) -> str:
    """Store the fitted estimator for the retraining that passed `handoff`; call it once at the end of training.
    Returns where it went (a URL or local path).

    The file appears whole or not at all, so driftflow never reads half a model: an object store writes an
    object in one request; in a local folder it is written aside, then renamed.
    """
    key = handoff_key(handoff)
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=COMPRESS)
    if not artifacts.is_local():
        return artifacts.write_bytes(key, buffer.getvalue())
    path = Path(artifacts.url_for(key))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{uuid.uuid4().hex[:8]}.partial")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, path)
    return str(path)


def collect(handoff: str) -> Any | None:
    """The estimator handed back under `handoff`, or None if nothing was."""
    key = handoff_key(handoff)
    try:
        return joblib.load(io.BytesIO(artifacts.read_bytes(key)))
    except FileNotFoundError:
        return None


def training_parameters(model: str, train: tuple[datetime, datetime], holdout: tuple[datetime, datetime],
                        handoff: str) -> dict[str, Any]:
    """The parameters the user's training flow receives."""
    return {"model": model, "train_start": train[0].isoformat(), "train_end": train[1].isoformat(),
            "holdout_start": holdout[0].isoformat(), "holdout_end": holdout[1].isoformat(), "handoff": handoff}


def run_training_deployment(name: str, parameters: dict[str, Any]) -> Any:
    """Run the user's deployment (as a subflow of the retrain run), wait for it, and collect its candidate."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run = run_deployment(name=name, parameters=parameters, timeout=None, poll_interval=POLL_SECONDS,
                             tags=[f"model:{parameters['model']}"])
    except ObjectNotFound:
        raise TrainerError(f"retraining.deployment {name!r}: no such deployment on the Prefect server "
                           "(deploy your training flow under that name)") from None
    state = run.state  # type: ignore[union-attr]
    if state is None or not state.is_completed():
        label = state.name if state is not None else "unknown"
        message = f": {state.message}" if state is not None and state.message else ""
        raise TrainerError(f"retraining.deployment {name!r}: run {run.name!r} ended {label}{message}")  # type: ignore[union-attr]
    estimator = collect(parameters["handoff"])
    if estimator is None:
        raise TrainerError(f"retraining.deployment {name!r}: run {run.name!r} completed without handing back a model "  # type: ignore[union-attr]
                           "(call tasks.retrain.handoff.hand_back(handoff, estimator) at the end of the flow)")
    return estimator
