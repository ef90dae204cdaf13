"""History does not rewrite itself: a rerun of an unchanged window keeps its record; late labels or corrected
rows make a new, audited revision; `driftflow relabel` reruns recorded windows and prints what changed."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from typer.testing import CliRunner

from flows.cli import app
from flows.monitor import monitor
from tasks.config import ModelConfig
from tasks.db import get_engine
from tasks.settings import store_url, warehouse_url
from tasks.store.schema import monitor_runs
from tasks.store.windows import audit_rows
from tests.flows.conftest import log_week, week, window_end

MODEL = "flights-delay"


def run(n: int) -> dict[str, Any]:
    return dict(monitor(model=MODEL, window_end=window_end(n), actions=False))


def recorded(n: int) -> dict[str, Any]:
    with get_engine(store_url()).connect() as conn:
        return dict(conn.execute(sa.select(monitor_runs).where(
            monitor_runs.c.model == MODEL, monitor_runs.c.window_end == window_end(n).replace(tzinfo=None))
        ).mappings().one())


def set_column(frame: pd.DataFrame, column: str, values: pd.Series) -> None:
    """Change one column of logged rows in the warehouse, as a late label feed or a correction would."""
    with get_engine(warehouse_url()).begin() as conn:
        conn.execute(sa.text(f"UPDATE flight_predictions SET {column} = :value WHERE flight_id = :id"),
                     [{"value": None if pd.isna(v) else float(v), "id": int(i)}
                      for i, v in zip(frame["flight_id"], values, strict=True)])


def test_a_rerun_of_an_unchanged_window_keeps_its_record_and_revision(monitored: ModelConfig) -> None:
    log_week(monitored, week(1, seed=1))
    first = run(1)
    before = recorded(1)
    again = run(1)
    after = recorded(1)
    assert (again["verdict"], again["reasons"], again["reference_version"]) == \
        (first["verdict"], first["reasons"], first["reference_version"])
    assert (first["revision"], again["revision"], after["revision"]) == (1, 1, 1)
    assert after["first_recorded_at"] == before["first_recorded_at"]
    assert after["data_fingerprint"] == before["data_fingerprint"] is not None
    assert audit_rows(get_engine(store_url()), MODEL) == []


def test_labels_that_arrive_late_change_the_verdict_with_an_audit(monitored: ModelConfig) -> None:
    """Logged without labels, the window measures inputs only. The labels arrive (a concept shift: the model is
    now wrong); `relabel` reruns the window: revision 2, the harm recorded as a breach, the audit saying why."""
    harmed = week(1, seed=3, concept_shift=True)
    log_week(monitored, harmed.assign(arrived_late=None))
    first = run(1)
    assert first["labelled_rows"] == 0 and not recorded(1)["breach"], first["reasons"]

    set_column(harmed, "arrived_late", harmed["arrived_late"])
    result = CliRunner().invoke(app, ["relabel", "-m", MODEL, "--since", window_end(0).isoformat()])
    assert result.exit_code == 0, result.output
    assert "1 recorded windows rerun, 1 changed" in result.output

    now = recorded(1)
    assert now["revision"] == 2 and now["breach"] and now["labelled_rows"] > 0
    [change] = audit_rows(get_engine(store_url()), MODEL)
    assert (change["cause"], change["old_status"], change["new_status"]) == \
        ("relabel", first["verdict"], now["status"])
    assert {"labels_fingerprint", "labelled_rows", "reasons"} <= set(change["changes"])
    assert "data_fingerprint" not in change["changes"]
    assert change["changes"]["labelled_rows"] == [0, now["labelled_rows"]]
    assert any("roc_auc" in reason for reason in change["new_reasons"])

    shown = CliRunner().invoke(app, ["audit", "-m", MODEL])
    assert shown.exit_code == 0 and "relabel" in shown.output
    assert f"{first['verdict']} → {now['status']}" in shown.output


def test_the_scheduled_relabel_pass_reruns_only_the_windows_whose_labels_matured(monitored: ModelConfig) -> None:
    """`relabel/<model>` (scheduled by `performance.relabel`) compares each recent window's labels with those it
    was measured on. Week 1's labels arrive: week 1 is run again, and week 2, whose matured window (labels lag
    two days) holds week 1's last two days; week 3 is not touched. A second pass finds nothing new."""
    from flows.relabel import relabel

    harmed = week(1, seed=3, concept_shift=True)
    log_week(monitored, harmed.assign(arrived_late=None))
    log_week(monitored, week(2, seed=4))
    log_week(monitored, week(3, seed=5))
    first, _, _ = (run(n) for n in (1, 2, 3))
    set_column(harmed, "arrived_late", harmed["arrived_late"])

    done = relabel(model=MODEL, lookback="28d", actions=False, now=window_end(3))
    assert done["looked_at"] == 3 and done["rerun"] == [window_end(1).isoformat(), window_end(2).isoformat()]
    assert [recorded(n)["revision"] for n in (1, 2, 3)] == [2, 2, 1]
    changes = audit_rows(get_engine(store_url()), MODEL)  # oldest first: week 1, then week 2
    assert [row["cause"] for row in changes] == ["relabel", "relabel"]
    assert changes[0]["old_status"] == first["verdict"]
    assert relabel(model=MODEL, lookback="28d", actions=False, now=window_end(3))["rerun"] == []


def test_a_model_that_schedules_the_relabel_pass_gets_its_deployment(tmp_path: Any, monkeypatch: Any) -> None:
    from flows.deployments import deployment_specs
    from tests.support import copy_project

    plain = copy_project(tmp_path, monkeypatch)
    assert [flow.name for flow, _ in deployment_specs(plain)] == ["monitor", "retrain"]
    scheduled = copy_project(tmp_path, monkeypatch, performance__relabel={"cron": "0 7 * * *", "lookback": "21d"})
    [spec] = [s for f, s in deployment_specs(scheduled) if f.name == "relabel"]
    assert spec["name"] == MODEL and spec["parameters"] == {"model": MODEL}
    assert spec["schedules"][0].cron == "0 7 * * *" and "21 days" in spec["description"]


def test_corrected_rows_are_a_rerun_with_their_own_audit(monitored: ModelConfig) -> None:
    """A feature rewritten upstream changes what the window measured: a new revision whose cause is `rerun`."""
    logged = week(1, seed=1)
    log_week(monitored, logged)
    run(1)
    set_column(logged, "distance", logged["distance"] + 800.0)
    run(1)
    [change] = audit_rows(get_engine(store_url()), MODEL)
    assert change["cause"] == "rerun" and "data_fingerprint" in change["changes"]
    assert recorded(1)["revision"] == 2


SEASON_SHIFT = {"temp": 40.0, "wind_speed": 15.0, "distance": 800.0}


def test_filling_a_hole_decides_the_later_window_again(monitored: ModelConfig) -> None:
    """Week 3 breaches after a quiet week 1 and a hole at week 2: 1 of the last 3 windows, a warning. The hole is
    filled by a week that breaches too: week 3 is decided again, now 2 of 3, `drift`, audited as `refill`."""
    log_week(monitored, week(1, seed=1))
    log_week(monitored, week(3, seed=13, shifts=SEASON_SHIFT))
    run(1)
    assert run(3)["verdict"] == "warn"
    log_week(monitored, week(2, seed=12, shifts=SEASON_SHIFT))
    assert run(2)["verdict"] == "warn"  # week 1 quiet, week 2 the first breach
    later = recorded(3)
    assert (later["status"], later["revision"]) == ("drift", 2)
    [change] = audit_rows(get_engine(store_url()), MODEL)
    assert (change["window_end"], change["cause"]) == (window_end(3), "refill")
    assert (change["old_status"], change["new_status"]) == ("warn", "drift")
    assert "data_fingerprint" not in change["changes"] and "status" in change["changes"]
