"""Retraining targets and the gate against a registered champion, under the real Prefect test server.

- A monitor-only model (registered `--logged`) is retrained: the challenger is gated against the logged
  predictions' own score on the same holdout rows, never "no champion to beat".
- A trainer in the user's project folder (not in the package) retrains the model; NULL categories reach it.
- The user's own Prefect deployment trains the challenger and hands it back; driftflow gates, registers and
  re-baselines it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from flows.retrain import retrain
from tasks.config import ModelConfig
from tasks.registry.events import events_of
from tasks.registry.references import load_reference
from tasks.registry.register import register_model
from tasks.registry.versions import champion, versions
from tasks.store.engine import open_store
from tests.factories import flights_batch
from tests.flows.conftest import REFERENCE_START, week, window_end, write_predictions

REFERENCE_END = REFERENCE_START + timedelta(days=28)


def logged_history(*, useless_predictions: bool = False, null_categories: bool = False) -> pd.DataFrame:
    """Four reference weeks and three monitored weeks of a log written by some serving system."""
    frames = [flights_batch(1500, seed=300 + i, start=REFERENCE_START + timedelta(days=7 * i)) for i in range(4)]
    frames += [week(n, seed=310 + n) for n in (0, 1, 2, 3)]
    log = pd.concat(frames, ignore_index=True)
    if useless_predictions:
        log["delay_proba"] = np.random.default_rng(0).random(len(log))
    if null_categories:
        log.loc[log.index[::9], "carrier"] = None
        log.loc[log.index[::13], "dest"] = None
    write_predictions(log, replace=True)
    return log


def retrain_at(n: int) -> dict[str, Any]:
    return dict(retrain(model="flights-delay", window_end=window_end(n), reason="drift in the test"))


def test_a_logged_champion_is_beaten_only_on_its_own_logged_score(driftflow_home: Path, project: Any) -> None:
    """The serving system's near-perfect logged probabilities beat a challenger trained on three weeks:
    it is rejected, and the reason names the logged predictions it lost to."""
    config = project()
    logged_history()
    register_model(open_store(), config, reference_start=REFERENCE_START, reference_end=REFERENCE_END, logged=True)
    outcome = retrain_at(3)
    assert outcome["outcome"] == "rejected", outcome["reason"]
    assert "logged predictions of v1" in outcome["reason"] and "no champion to beat" not in outcome["reason"]
    assert outcome["champion_score"] > outcome["challenger_score"]
    store = open_store()
    assert [(v["status"], v["kind"]) for v in versions(store, "flights-delay")] == [
        ("champion", "logged"), ("rejected", "trained")]
    assert load_reference.fn(store, config).version == "v1"
    assert [e["event"] for e in events_of(store, "flights-delay")] == ["registered", "rejected"]


def test_a_challenger_better_than_the_logged_model_is_promoted_and_re_baselined(driftflow_home: Path,
                                                                                 project: Any) -> None:
    """Useless logged predictions lose to the challenger with confidence; NULL categories are no obstacle for
    the built-in trainer; the new champion's reference becomes the monitor's from the window it was requested."""
    config = project()
    logged_history(useless_predictions=True, null_categories=True)
    register_model(open_store(), config, reference_start=REFERENCE_START, reference_end=REFERENCE_END, logged=True)
    outcome = retrain_at(3)
    assert outcome["outcome"] == "promoted", outcome["reason"]
    assert outcome["probability"] >= 0.9 and "logged predictions of v1" in outcome["reason"]
    store = open_store()
    row = champion(store, "flights-delay")
    assert row is not None and (row["version"], row["kind"], row["served_from"]) == (2, "trained", window_end(3))
    assert row["trainer"] == "tasks.retrain.trainers:gradient_boosting"
    assert load_reference.fn(store, config).version == "v2"
    assert [(e["event"], e["version"], e["previous_version"]) for e in events_of(store, "flights-delay")] == [
        ("registered", 1, None), ("promoted", 2, 1)]


USER_TRAINER = '''
"""A user's trainer, in the project folder: NULL categories are mapped to a category of their own."""
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), "(null)").astype(str)


def train(features, target, config):
    categories = Pipeline([("text", FunctionTransformer(_text)), ("onehot", OneHotEncoder(handle_unknown="ignore"))])
    encode = ColumnTransformer([("categories", categories, config.columns.categorical)], remainder=StandardScaler())
    return Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=500))]).fit(
        features[config.columns.features], target)
'''


def test_a_trainer_in_the_project_folder_retrains_the_model(driftflow_home: Path, project: Any) -> None:
    """`retraining.trainer: trainers.delays:train` names a module of the project, outside the package."""
    config = project(retraining__trainer="trainers.delays:train", retraining__promote_if={"min_gain": -1.0})
    folder = Path(os.environ["DRIFTFLOW_PROJECT_DIR"]) / "trainers"
    folder.mkdir()
    (folder / "delays.py").write_text(USER_TRAINER)
    logged_history(null_categories=True)
    register_model(open_store(), config, reference_start=REFERENCE_START, reference_end=REFERENCE_END, logged=True)
    outcome = retrain_at(3)
    assert outcome["outcome"] == "promoted", outcome["reason"]
    row = champion(open_store(), "flights-delay")
    assert row is not None and row["trainer"] == "trainers.delays:train" and row["kind"] == "trained"


USER_FLOW = '''
"""A user's training flow, deployed as train/my-model: it trains however it likes and hands the model back."""
from datetime import datetime

from prefect import flow

from tasks.config import load_model_config
from tasks.retrain.handoff import hand_back
from tasks.retrain.trainers import gradient_boosting
from tasks.source.query import read_range


@flow(name="train")
def train(model: str, train_start: datetime, train_end: datetime, holdout_start: datetime,
          holdout_end: datetime, handoff: str) -> None:
    config = load_model_config(model)
    target = config.columns.target.column
    rows = read_range(config, [*config.columns.features, target], train_start, train_end, labelled_only=True)
    hand_back(handoff, gradient_boosting(rows, rows[target], config))


if __name__ == "__main__":
    train.serve(name="my-model")
'''


@pytest.fixture()
def user_deployment(tmp_path: Path, project: Callable[..., ModelConfig]) -> Iterator[None]:
    """The user's flow served as `train/my-model` by its own process, against the test's Prefect server."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    (tmp_path / "user_training.py").write_text(textwrap.dedent(USER_FLOW))
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_RUNNER_POLL_FREQUENCY": "1",
           "PYTHONPATH": str(tmp_path)}
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, str(tmp_path / "user_training.py")], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 300
        with get_client(sync_client=True) as client:
            while True:
                try:
                    client.read_deployment_by_name("train/my-model")
                    break
                except Exception:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"train/my-model was not served:\n{(tmp_path / 'serve.log').read_text()[-3000:]}")
                    time.sleep(1)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def test_the_users_deployment_trains_the_challenger(driftflow_home: Path, project: Any,
                                                    user_deployment: None) -> None:
    """`retraining.deployment: train/my-model`: the user's flow receives the training and holdout windows, hands
    back its model, and driftflow gates it against the logged predictions, registers and re-baselines it."""
    config = project(retraining__trainer=None, retraining__deployment="train/my-model")
    logged_history(useless_predictions=True)
    register_model(open_store(), config, reference_start=REFERENCE_START, reference_end=REFERENCE_END, logged=True)
    outcome = retrain_at(3)
    assert outcome["outcome"] == "promoted", outcome["reason"]
    store = open_store()
    row = champion(store, "flights-delay")
    assert row is not None and (row["kind"], row["trainer"]) == ("deployment", "deployment:train/my-model")
    assert load_reference.fn(store, config).version == "v2"
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["my-model"])))
    assert len(runs) == 1 and runs[0].state is not None and runs[0].state.is_completed()
    parameters = runs[0].parameters
    assert parameters["train_end"] == parameters["holdout_start"] < parameters["holdout_end"]
    assert parameters["holdout_end"] == (window_end(3) - timedelta(days=2)).isoformat()
