"""Recording a window on PostgreSQL under real concurrency: two runs of one window that reach the store at the
same moment (a barrier holds both before the per-window lock) leave one record, its revision and one audit row
for the change, nothing doubled. Skipped, with the reason, without PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tasks.store.windows as windows
from tasks.results import ExpectationOutcome, ValidationSummary, Verdict, Window
from tasks.store.engine import open_store
from tasks.store.schema import monitor_runs, validation_results
from tasks.store.windows import WindowRecord, audit_rows, count_window_rows, record_window
from tests.integration.test_retrain_requests_postgres import in_threads
from tests.support import window_end

pytestmark = pytest.mark.postgres

END = window_end(1)


def record(status: str, rows: int) -> WindowRecord:
    outcome = ExpectationOutcome("expect_table_row_count_to_be_between", None, "critical", True)
    return WindowRecord(
        model="flights-delay", window=Window(END - timedelta(days=7), END, END, END),
        verdict=Verdict(status, [f"{status} with {rows} rows"], breach=status == "drift"),  # type: ignore[arg-type]
        validation=ValidationSummary("flights-delay", [outcome]), drift=None, row_count=rows, labelled_rows=0,
        reference_version="v1", champion_version=1, flow_run_id=None, data_fingerprint=f"rows-{rows}")


def test_two_runs_of_one_window_at_once_leave_one_record_and_one_audited_change(
        postgres_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store()
    barrier = threading.Barrier(2)
    lock = windows.lock_window

    def racing_lock(conn: sa.Connection, model: str, moment: datetime) -> None:
        barrier.wait(timeout=60)
        lock(conn, model, moment)

    monkeypatch.setattr(windows, "lock_window", racing_lock)
    results: list[Any] = in_threads(lambda: record_window(store, record("ok", 1500)),
                                    lambda: record_window(store, record("drift", 1600)))
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.revision for r in results) == [1, 2]
    assert count_window_rows(store, "flights-delay", END)["monitor_runs"] == 1
    with store.connect() as conn:
        row = conn.execute(sa.select(monitor_runs)).mappings().one()
        checks = conn.execute(sa.select(sa.func.count()).select_from(validation_results)).scalar_one()
    assert row["revision"] == 2 and checks == 1
    [change] = audit_rows(store, "flights-delay")
    assert change["cause"] == "rerun" and {change["old_status"], change["new_status"]} == {"ok", "drift"}
    assert change["new_status"] == row["status"]  # the audit ends where the record stands
