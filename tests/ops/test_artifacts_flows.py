"""Monitor and retrain runs with DRIFTFLOW_ARTIFACTS on a real S3-compatible server (moto): every report,
reference, profile and model file goes to the bucket and nothing to the local home; a second worker process
on a clean folder, sharing only the store and the bucket, loads the champion and monitors a window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flows.monitor import monitor
from flows.retrain import retrain
from tasks import artifacts
from tasks.config import ModelConfig
from tasks.registry.versions import champion, versions
from tasks.store.engine import open_store
from tasks.store.schema import reference_snapshots
from tests.flows.conftest import project  # noqa: F401 - the fixture, for a project copy with changed settings
from tests.support import log_week, seed_monitored, week, window_end

REPO = Path(__file__).resolve().parents[2]
SEASON_SHIFT = {"temp": 40.0, "wind_speed": 15.0, "distance": 800.0}
LOCAL_ARTIFACTS = (".html", ".js", ".parquet", ".npz", ".joblib", ".skops")

SECOND_WORKER = """
import json, sys
from datetime import datetime
from flows.monitor import monitor
from tasks.config import load_model_config
from tasks.registry.versions import champion, load_estimator
from tasks.retrain.trainers import predict
from tasks.store.engine import open_store
from tasks.store.schema import reference_snapshots
from tests.support import week

config = load_model_config("flights-delay")
row = champion(open_store(), "flights-delay")
scores = predict(load_estimator(row), week(5, seed=15), config)
summary = monitor(model="flights-delay", window_end=datetime.fromisoformat(sys.argv[1]), actions=False)
print("RESULT " + json.dumps({"champion": row["version"], "artifact_path": row["artifact_path"],
                              "scored": len(scores), "verdict": summary["verdict"],
                              "reference_version": summary["reference_version"], "report": summary["report"]}))
"""


@pytest.fixture(autouse=True)
def _runs_report_to_prefect(prefect_server: None) -> None:
    """The flows report to the session's real Prefect test server."""


@pytest.fixture()
def on_s3(s3_artifacts: str, project: Callable[..., ModelConfig]) -> ModelConfig:  # noqa: F811
    """flights-delay (any scorable challenger wins) with its champion v1 registered while artifacts go to S3."""
    config = project(retraining__promote_if={"min_gain": -1.0})
    return seed_monitored(config)


def local_artifacts(home: Path) -> list[Path]:
    return sorted(p for p in home.rglob("*") if p.is_file() and p.name.endswith(LOCAL_ARTIFACTS))


def test_monitor_and_retrain_keep_every_artifact_in_the_bucket(on_s3: ModelConfig, s3_artifacts: str,
                                                              driftflow_home: Path) -> None:
    """Reports (and their shared bundle), reference rows, profiles and model files are written to and read
    from the bucket; the store records their s3:// URLs; the local home holds none of them."""
    for n in (1, 2, 3):
        log_week(on_s3, week(n, seed=10 + n, shifts=SEASON_SHIFT))
    first = dict(monitor(model="flights-delay", window_end=window_end(1), actions=False))
    second = dict(monitor(model="flights-delay", window_end=window_end(2), actions=False))
    outcome = dict(retrain(model="flights-delay", window_end=window_end(2), reason="the season changed"))
    assert outcome["outcome"] == "promoted" and outcome["version"] == 2
    third = dict(monitor(model="flights-delay", window_end=window_end(3), actions=False))
    assert third["reference_version"] == "v2"  # read back from the bucket: rows and profile of v2

    keys = {a.key for a in artifacts.list_artifacts()}
    for summary, n in ((first, 1), (second, 2), (third, 3)):
        key = f"reports/flights-delay/{window_end(n):%Y%m%dT%H%M}/drift.html"
        assert summary["report"] == f"{s3_artifacts}/{key}" and key in keys
    page = artifacts.read_bytes(f"reports/flights-delay/{window_end(3):%Y%m%dT%H%M}/drift.html").decode()
    [style, bundle] = sorted((k for k in keys if k.startswith("reports/_assets/")), key=lambda k: k.endswith(".js"))
    assert f'<script src="../../_assets/{bundle.rsplit("/", 1)[1]}"></script>' in page
    assert f'<link rel="stylesheet" href="../../_assets/{style.rsplit("/", 1)[1]}">' in page
    assert max(a.size for a in artifacts.list_artifacts("reports/_assets")) > 1_000_000  # the bundle, stored once

    store = open_store()
    models = versions(store, "flights-delay")
    assert [v["status"] for v in models] == ["retired", "champion"]
    for version in models:
        assert version["artifact_path"].startswith(f"{s3_artifacts}/models/flights-delay/")
        assert artifacts.key_for(version["artifact_path"]) in keys
    with store.connect() as conn:
        snapshots = [dict(r._mapping) for r in conn.execute(sa.select(reference_snapshots))]
    assert sorted(s["version"] for s in snapshots) == ["v1", "v2"]
    for snap in snapshots:
        assert snap["path"].startswith(f"{s3_artifacts}/references/flights-delay/")
        assert snap["profile_path"] == snap["path"].removesuffix(".parquet") + ".profile.npz"
        assert {artifacts.key_for(snap["path"]), artifacts.key_for(snap["profile_path"])} <= keys
    assert not any(k.startswith("handoff/") for k in keys)  # the built-in trainer hands nothing over

    assert local_artifacts(driftflow_home) == []
    assert not (driftflow_home / "artifacts").exists()


def test_a_second_worker_on_a_clean_folder_picks_up_the_champion(on_s3: ModelConfig, s3_artifacts: str,
                                                                  driftflow_home: Path, tmp_path: Path) -> None:
    """Another process with an empty DRIFTFLOW_HOME, sharing only the store, the warehouse and the bucket,
    loads the promoted champion's model file and monitors a window against its reference."""
    from prefect.settings import PREFECT_API_URL

    for n in (1, 2, 4):  # weeks 1-2: what the retraining learns from; week 4: what the second worker monitors
        log_week(on_s3, week(n, seed=10 + n, shifts=SEASON_SHIFT))
    assert dict(retrain(model="flights-delay", window_end=window_end(2), reason="the season changed"))[
        "outcome"] == "promoted"
    champion_row = champion(open_store(), "flights-delay")
    assert champion_row is not None

    clean = tmp_path / "second-worker"
    env = {**os.environ, "DRIFTFLOW_HOME": str(clean), "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "PREFECT_HOME": str(tmp_path / "second-prefect"), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", SECOND_WORKER, window_end(4).isoformat()], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    [line] = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    assert result["champion"] == 2 and result["artifact_path"] == champion_row["artifact_path"]
    assert result["scored"] == 1500
    assert result["reference_version"] == "v2" and result["verdict"] in ("ok", "warn", "drift")
    key = f"reports/flights-delay/{window_end(4):%Y%m%dT%H%M}/drift.html"
    assert result["report"] == f"{s3_artifacts}/{key}" and artifacts.exists(key)
    assert local_artifacts(clean) == [] and local_artifacts(driftflow_home) == []


def test_a_handed_back_candidate_and_a_registered_skops_file_round_trip_through_the_bucket(
        s3_artifacts: str, driftflow_home: Path, tmp_path: Path) -> None:
    """A training deployment's `hand_back` lands in the bucket and `collect` reads it; a user's .skops file is
    copied into the bucket and loaded from there with the same trust rules."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    from tasks.registry.model_files import copy_model_file, load_estimator
    from tasks.retrain.handoff import collect, hand_back, new_handoff_key

    fitted = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    handoff = new_handoff_key("flights-delay")
    assert collect(handoff) is None
    assert hand_back(handoff, fitted) == f"{s3_artifacts}/handoff/{handoff}.joblib"
    assert collect(handoff).predict([[3.0]]).tolist() == [1]

    source = tmp_path / "model.skops"
    sio.dump(fitted, source)
    url = copy_model_file("flights-delay", "registered", source)
    assert url.startswith(f"{s3_artifacts}/models/flights-delay/registered-") and url.endswith(".skops")
    row = {"model": "flights-delay", "version": 1, "artifact_path": url}
    assert load_estimator(row).predict([[0.0]]).tolist() == [0]
    assert local_artifacts(driftflow_home) == []
