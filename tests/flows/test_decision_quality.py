"""The decision-quality harness end to end on a slice of one dataset, through the real monitor flow."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from benchmarks.quality import DATASETS, WindowOutcome, evaluate_dataset
from benchmarks.quality.report import markdown_table

VERDICTS = {"ok", "warn", "drift", "data_invalid", "insufficient_data"}


def test_two_baseball_seasons_go_through_the_monitor_and_are_scored(tmp_path: Path) -> None:
    """The 1910 and 1911 seasons (the cork-centre ball arrived in 1911) are monitored as `driftflow backfill`
    would monitor them, recorded in the store, judged by Evidently's default rule, and scored against the
    documented change; driftflow's settings are restored afterwards."""
    before = {k: v for k, v in os.environ.items() if k.startswith("DRIFTFLOW_")}
    seasons = (datetime(1911, 1, 1, tzinfo=UTC), datetime(1912, 1, 1, tzinfo=UTC))  # window ends: 1910, 1911
    dataset = replace(DATASETS["baseball"], monitor=seasons)
    seen: list[WindowOutcome] = []

    result = evaluate_dataset(dataset, tmp_path / "baseball", progress=seen.append)

    assert [o.end.year for o in seen] == [1911, 1912]
    assert all(o.verdict in VERDICTS and o.rows > 100 for o in seen)
    assert all(o.evidently_share is not None and 0 <= o.evidently_share <= 1 for o in seen)
    assert all(o.served_metric is not None and o.served_metric > 0 for o in seen)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'baseball' / 'warehouse.db'}")
    with engine.connect() as conn:
        recorded = conn.execute(sa.text("SELECT window_end, status FROM monitor_runs WHERE model = 'baseball' "
                                        "ORDER BY window_end")).all()
    engine.dispose()
    assert [status for _end, status in recorded] == [o.verdict for o in seen]
    assert (result.windows, result.stable_windows) == (2, 1)  # the 1911 season's window holds the change
    assert result.false_drift == int(seen[0].verdict == "drift")
    assert result.delay == (0 if seen[1].verdict == "drift" else None)
    assert sum(result.verdicts.values()) == 2 and result.recorded_requests is None
    assert "| baseball | 2 | 1 |" in markdown_table([result], "python benchmarks/decision_quality.py")
    assert {k: v for k, v in os.environ.items() if k.startswith("DRIFTFLOW_")} == before
