"""Predictions that carry their model version (`source.model_version`): each window is compared with the
baseline of the version that made its predictions, and a drift of predictions by a version the champion already
replaces requests no retraining."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from flows.monitor import monitor
from tasks.config import ModelConfig
from tasks.db import get_engine
from tasks.registry.versions import champion, fit_candidate, register_candidate
from tasks.retrain.trainers import gradient_boosting
from tasks.retrain.trigger import requests_of
from tasks.settings import warehouse_url
from tasks.store.engine import open_store
from tasks.store.schema import monitor_runs
from tests.flows.conftest import log_week, seed_monitored, week, window_end
from tests.support import FEATURES_BREACH, copy_project

SEASON_SHIFT = {"temp": 40.0, "wind_speed": 15.0, "distance": 800.0}


def served(config: ModelConfig, label: str, start_week: int, end_week: int) -> None:
    """Mark the logged rows of weeks start_week..end_week as made by the model version `label`."""
    with get_engine(warehouse_url()).begin() as conn:
        conn.execute(sa.text("UPDATE flight_predictions SET served_by = :label WHERE scheduled_at >= :start AND "
                             "scheduled_at < :end"),
                     {"label": label, "start": (window_end(start_week) - timedelta(days=7)).replace(tzinfo=None),
                      "end": window_end(end_week).replace(tzinfo=None)})


@pytest.fixture()
def logging_versions(driftflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelConfig:
    """flights-delay logging `served_by`: v1 registered and served weeks 1-3 (1-2 drifted)."""
    config = copy_project(tmp_path, monkeypatch, source__model_version="served_by", **FEATURES_BREACH)
    seed_monitored(config)
    for n in (1, 2, 3):
        log_week(config, week(n, seed=10 + n, shifts=SEASON_SHIFT if n < 3 else None))
    with get_engine(warehouse_url()).begin() as conn:
        conn.execute(sa.text("ALTER TABLE flight_predictions ADD COLUMN served_by TEXT"))
        conn.execute(sa.text("UPDATE flight_predictions SET served_by = '1'"))
    return config


def promote_v2(config: ModelConfig) -> None:
    """v2, trained on the drifted weeks, becomes the champion from the end of week 1."""
    rows = pd.concat([week(n, seed=10 + n, shifts=SEASON_SHIFT) for n in (1, 2)], ignore_index=True)
    candidate = fit_candidate(config, rows, window_end(1) - timedelta(days=7), window_end(2), gradient_boosting)
    register_candidate(open_store(), config, candidate, status="champion", reason="trained on the drifted weeks",
                       window_end=window_end(1))


@pytest.fixture()
def versioned(logging_versions: ModelConfig) -> ModelConfig:
    """v1 served weeks 1-3; v2 became the champion before the serving system deployed it."""
    promote_v2(logging_versions)
    return logging_versions


def run(n: int) -> dict[str, Any]:
    return dict(monitor(model="flights-delay", window_end=window_end(n), actions=True))


def test_old_predictions_are_judged_by_their_own_version_and_request_no_retrain(versioned: ModelConfig) -> None:
    store = open_store()
    assert champion(store, "flights-delay")["version"] == 2  # type: ignore[index]
    run(1)
    second = run(2)
    assert second["reference_version"] == "v1"  # v2's reference has been active since week 1 ended
    assert second["verdict"] == "drift"
    said = " ".join(second["reasons"])
    assert "predictions made by v1 (1,500 rows), compared with v1's own baseline (the champion is v2)" in said
    with store.connect() as conn:
        recorded = conn.execute(sa.select(monitor_runs.c.model_versions).where(
            monitor_runs.c.window_end == window_end(2).replace(tzinfo=None))).scalar_one()
    assert recorded == {"1": 1500}
    request = requests_of(store, "flights-delay")[-1]
    assert request["status"] == "refused"
    assert "made by v1, which the champion v2 already replaces; deploy v2" in request["decision"]


def test_a_window_served_by_two_versions_is_compared_with_the_one_that_made_most(versioned: ModelConfig) -> None:
    served(versioned, "v2", 3, 3)
    with get_engine(warehouse_url()).begin() as conn:  # the deployment happened a day into week 3
        conn.execute(sa.text("UPDATE flight_predictions SET served_by = '1' WHERE scheduled_at >= :start AND "
                             "scheduled_at < :end"),
                     {"start": (window_end(3) - timedelta(days=7)).replace(tzinfo=None),
                      "end": (window_end(3) - timedelta(days=6)).replace(tzinfo=None)})
    third = run(3)
    assert third["reference_version"] == "v2"
    said = " ".join(third["reasons"])
    assert "predictions made by v2 (" in said and "and v1 (" in said
    assert "compared with v2's baseline, the version that made most" in said


def test_a_label_that_names_no_version_is_said_and_the_active_reference_used(versioned: ModelConfig) -> None:
    served(versioned, "2024-spring-model", 3, 3)
    third = run(3)
    assert third["reference_version"] == "v2"
    assert "'2024-spring-model' is no registry version number; compared with the active reference" in " ".join(
        third["reasons"])


def test_a_rerun_after_a_promotion_computes_what_the_first_run_did(logging_versions: ModelConfig) -> None:
    """History does not rewrite itself: the champion of the window's time, not today's, is the one the rerun
    speaks of, and nothing about the window changed, so its revision stays."""
    first = run(2)
    promote_v2(logging_versions)
    rerun = run(2)
    assert (rerun["verdict"], rerun["reasons"], rerun["reference_version"], rerun["revision"]) == (
        first["verdict"], first["reasons"], first["reference_version"], first["revision"])
    assert not any("the champion is v2" in reason for reason in rerun["reasons"])
    with open_store().connect() as conn:
        recorded = conn.execute(sa.select(monitor_runs.c.champion_version).where(
            monitor_runs.c.window_end == window_end(2).replace(tzinfo=None))).scalar_one()
    assert recorded == 1
