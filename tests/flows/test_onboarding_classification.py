"""docs/onboarding-classification.md, run as written: its loader and each of its `driftflow` commands, in order, on
a fresh project folder, under the session's Prefect test server. A binary classifier whose serving system logged
probabilities is onboarded monitor-only (`register --logged`) and replayed with retraining."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.metrics import roc_auc_score

from tasks.settings import PROJECT_DIR
from tests.flows.guides import guide_commands, invoke, project_folder, run_loader

GUIDE = PROJECT_DIR / "docs" / "onboarding-classification.md"
MODEL, TABLE = "rain-tomorrow", "rain_forecasts"
MONTHLY_ENDS = ["2017-05-01", "2017-06-01", "2017-07-01", "2017-08-01", "2017-09-01", "2017-10-01"]


def logged_auc(warehouse: sa.Engine, start: datetime, end: datetime) -> tuple[float, int]:
    """The logged probabilities' ROC AUC on the rows issued in [start, end), read back from the warehouse."""
    log = pd.read_sql(f"SELECT issued_at, rain_tomorrow_proba, rain_tomorrow FROM {TABLE}", warehouse)
    issued = pd.to_datetime(log["issued_at"])
    rows = log[(issued >= start.replace(tzinfo=None)) & (issued < end.replace(tzinfo=None))]
    return float(roc_auc_score(rows["rain_tomorrow"], rows["rain_tomorrow_proba"])), len(rows)


@pytest.fixture()
def project(driftflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The guide's section 1: a project folder, its home and its warehouse."""
    return project_folder(tmp_path / "rain-project", monkeypatch)


def test_a_logged_classifier_is_onboarded_and_its_first_challenger_is_gated_against_its_log(project: Path) -> None:
    """init proposes a classification task with the logged probability and its label; register --logged records
    a reference and the log's baseline; check passes; backfill --actions decides every monthly window, the
    summer drifts, and the first challenger is gated against the logged probabilities' ROC AUC on its holdout."""
    from flows.deployments import model_deployments, register
    from tasks.config import load_model_config
    from tasks.registry.events import events_of
    from tasks.retrain.trigger import requests_of
    from tasks.store.engine import open_store
    from tasks.store.schema import model_versions, reference_snapshots

    assert "3650 logged forecasts in rain_forecasts" in run_loader(GUIDE, project, "load_rain.py")
    warehouse = sa.create_engine(f"sqlite:///{project / 'warehouse.db'}")

    commands = guide_commands(GUIDE)
    assert [c.split()[1] for c in commands] == ["init", "register", "check", "backfill", "status"]
    outputs: dict[str, str] = {}
    for command in commands:
        verb = command.split()[1]
        if verb == "backfill":
            register(model_deployments(load_model_config(MODEL)))  # what `driftflow serve` does first
        outputs[verb] = invoke(command)

    # init: the roles a classifier's log implies, and a gate its 30-day holdouts can pass
    config = load_model_config(MODEL)
    assert config.task == "classification" and config.performance.metric == "roc_auc"
    assert (config.columns.prediction, config.columns.target.column) == ("rain_tomorrow_proba", "rain_tomorrow")
    assert (config.source.timestamp, config.source.id, config.columns.categorical) == ("issued_at", "forecast_id",
                                                                                       ["city"])
    assert config.retraining is not None and config.retraining.trainer == "tasks.retrain.trainers:gradient_boosting"

    # register --logged: a logged champion, its reference window and its baseline, the logged AUC there
    assert "v1 (logged) is the champion" in outputs["register"]
    store = open_store()
    with store.connect() as conn:
        versions = {r.version: r for r in conn.execute(sa.select(model_versions)
                                                       .where(model_versions.c.model == MODEL))}
        [first_reference] = conn.execute(sa.select(reference_snapshots).where(
            reference_snapshots.c.model == MODEL, reference_snapshots.c.model_version == 1)).all()
    assert versions[1].kind == "logged" and versions[1].artifact_path is None
    baseline, reference_rows = logged_auc(warehouse, datetime(2016, 10, 1), datetime(2017, 4, 1))
    assert first_reference.rows == reference_rows == 910
    assert first_reference.performance == pytest.approx(baseline, abs=1e-9)
    assert "fit their sources" in outputs["check"]

    # backfill --actions: one verdict per scheduled month; the summer drifts and retrains
    summaries: list[dict[str, Any]] = [json.loads(line) for line in
                                       invoke(f"driftflow status -m {MODEL} --json --limit 50").splitlines()
                                       if line.startswith("{")]
    verdicts = {s["window_end"][:10]: s["verdict"] for s in sorted(summaries, key=lambda s: s["window_end"])}
    assert list(verdicts) == MONTHLY_ENDS
    assert set(verdicts.values()) <= {"ok", "warn", "drift"}, verdicts
    drifted = [end for end, verdict in verdicts.items() if verdict == "drift"]
    assert drifted, verdicts

    requests = requests_of(store, MODEL)
    assert [r["window_end"].strftime("%Y-%m-%d") for r in requests] == drifted
    first = requests[0]
    assert first["status"] in ("promoted", "rejected"), first  # run in process before the next window
    challenger = versions[first["challenger_version"]]
    holdout_auc, holdout_rows = logged_auc(warehouse, challenger.holdout_from, challenger.holdout_to)
    # the gate scored the logged probabilities of v1 on the challenger's own holdout rows, enough of them
    assert config.retraining.promote_if.min_holdout_rows <= holdout_rows
    assert f"on {holdout_rows} holdout rows: challenger {challenger.holdout_score:.4f}, logged predictions of v1 " \
           f"{holdout_auc:.4f})" in first["decision"], first["decision"]
    decisions = json.dumps([requests, events_of(store, MODEL)], default=str)
    assert "no champion to beat" not in decisions
