"""`prune` on a real store and artifact folder: the dry run lists, the run deletes, the audit stays whole."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tasks import artifacts
from tasks.ops.prune import PruneItem, PrunePlan
from tasks.ops.prune_inventory import apply_plan
from tasks.store.engine import open_store
from tasks.store.schema import model_versions, monitor_runs, reference_snapshots

MODEL = "flights-delay"
FIRST = datetime(2013, 2, 4, 6)
WEEKS = 30


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M")


@pytest.fixture()
def year_of_windows(driftflow_home: Path) -> sa.Engine:
    """30 recorded weekly windows with their reports; v1 retired in week 5, v2 retired in week 25, v3 champion."""
    store = open_store()
    rows = []
    for i in range(WEEKS):
        end = FIRST + timedelta(weeks=i)
        key = f"reports/{MODEL}/{stamp(end)}/drift.html"
        artifacts.write_bytes(key, b"x" * 1000)
        artifacts.write_bytes(f"reports/{MODEL}/{stamp(end)}/target.html", b"y" * 100)
        version = "v1" if i < 5 else "v2" if i < 25 else "v3"
        rows.append({"model": MODEL, "window_end": end, "window_start": end - timedelta(weeks=1),
                     "labelled_start": end, "labelled_end": end, "status": "ok", "breach": False, "reasons": [],
                     "drifted_columns": [], "row_count": 1, "labelled_rows": 1, "reference_version": version,
                     "report_path": artifacts.url_for(key), "recorded_at": end})
    served = {1: (FIRST - timedelta(weeks=4), FIRST + timedelta(weeks=5), "retired"),
              2: (FIRST + timedelta(weeks=5), FIRST + timedelta(weeks=25), "retired"),
              3: (FIRST + timedelta(weeks=25), None, "champion")}
    with store.begin() as conn:
        conn.execute(sa.insert(monitor_runs), rows)
        for version, (start, end, status) in served.items():
            model_file = artifacts.write_bytes(f"models/{MODEL}/v{version}.joblib", b"m" * 500)
            reference = artifacts.write_bytes(f"references/{MODEL}/v{version}.parquet", b"r" * 300)
            conn.execute(sa.insert(model_versions).values(
                model=MODEL, version=version, status=status, trained_from=start, trained_to=start,
                holdout_from=start, holdout_to=start, metric="roc_auc", artifact_path=model_file, reason="test",
                created_at=start, served_from=start, served_to=end))
            conn.execute(sa.insert(reference_snapshots).values(
                model=MODEL, version=f"v{version}", model_version=version, window_start=start, window_end=start,
                rows=1, path=reference, active=status == "champion", created_at=start))
    return store


def store_rows(store: sa.Engine) -> dict[str, int]:
    with store.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (monitor_runs, model_versions, reference_snapshots)}


def test_prune_keeps_the_last_90_days_the_champion_and_every_record(prefect_server: None,
                                                                    year_of_windows: sa.Engine) -> None:
    """Counting back 90 days from the newest window, 17 weeks of reports go and 13 stay; v1's model file and
    reference go (retired in week 5); v2 is the rollback target and v3 the champion, so both stay. The dry
    run lists exactly that and deletes nothing; the run then deletes it; every store row remains."""
    from flows.prune import prune

    before_rows, before_keys = store_rows(year_of_windows), {a.key for a in artifacts.list_artifacts()}
    dry = prune(older_than="90d", dry_run=True, flow_runs=False)
    assert {a.key for a in artifacts.list_artifacts()} == before_keys
    planned = {item["target"] for item in dry["planned"]}
    cutoff = FIRST + timedelta(weeks=WEEKS - 1) - timedelta(days=90)
    old = [FIRST + timedelta(weeks=i) for i in range(WEEKS) if FIRST + timedelta(weeks=i) < cutoff]
    assert len(old) == 17
    expected = {f"reports/{MODEL}/{stamp(e)}/{f}" for e in old for f in ("drift.html", "target.html")}
    expected |= {f"models/{MODEL}/v1.joblib", f"references/{MODEL}/v1.parquet"}
    assert planned == expected
    assert dry["total_bytes"] == 17 * 1100 + 500 + 300

    done = prune(older_than="90d", dry_run=False, flow_runs=False)
    assert done["deleted"] == {"report": 34, "reference": 1, "model": 1, "flow_run": 0, "bytes": 17 * 1100 + 800}
    assert {a.key for a in artifacts.list_artifacts()} == before_keys - expected
    for kept in ("models/flights-delay/v3.joblib", "references/flights-delay/v3.parquet",
                 "models/flights-delay/v2.joblib", "references/flights-delay/v2.parquet"):
        assert artifacts.exists(kept)
    assert store_rows(year_of_windows) == before_rows == {"monitor_runs": 30, "model_versions": 3,
                                                          "reference_snapshots": 3}
    again = prune(older_than="90d", dry_run=True, flow_runs=False)
    assert again["planned"] == []


def test_old_flow_runs_are_deleted_from_prefect(prefect_server: None, driftflow_home: Path) -> None:
    """A planned flow run is deleted on the server with its artifacts (Prefect itself would leave those
    behind); another run's artifacts stay; one already gone is not counted."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactCreate
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.exceptions import ObjectNotFound

    @flow(name="prune-target")
    def target() -> None:
        """A flow whose run is pruned."""

    def artifacts_of(client: Any, run_id: Any) -> int:
        of_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        return len(client.read_artifacts(artifact_filter=of_run))

    with get_client(sync_client=True) as client:
        run, kept = (client.create_flow_run(target, tags=["driftflow"]) for _ in range(2))
        for owner, kind in ((run, "markdown"), (run, "table"), (kept, "markdown")):
            client.create_artifact(ArtifactCreate(type=kind, data="x", flow_run_id=owner.id))
    item = PruneItem("flow_run", None, str(run.id), 0, "old")
    assert apply_plan(PrunePlan([item]))["flow_run"] == 1
    with get_client(sync_client=True) as client:
        with pytest.raises(ObjectNotFound):
            client.read_flow_run(run.id)
        assert (artifacts_of(client, run.id), artifacts_of(client, kept.id)) == (0, 1)
    assert apply_plan(PrunePlan([item]))["flow_run"] == 0
