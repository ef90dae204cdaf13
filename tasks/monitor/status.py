"""Recorded windows read back from the store in the same shape the monitor returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import as_utc
from tasks.store.schema import retrain_requests
from tasks.store.windows import window_runs


def _requests(engine: sa.Engine, model: str) -> dict[datetime, dict[str, Any]]:
    table = retrain_requests
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.window_end, table.c.status, table.c.decision, table.c.flow_run_id)
                            .where(table.c.model == model))
        return {as_utc(r.window_end): {"status": r.status, "decision": r.decision, "flow_run_id": r.flow_run_id}
                for r in rows}


def recorded_summaries(engine: sa.Engine, config: ModelConfig, limit: int = 20) -> list[dict[str, Any]]:
    """The newest `limit` windows of a model, in the shape `run --json` prints (the window summary)."""
    summaries = []
    requests = _requests(engine, config.name)
    for run in window_runs(engine, config.name, limit=limit):
        perf = run["performance"]
        measured = run.get("measurements") or {}
        summaries.append({
            "model": config.name,
            "window_start": run["window_start"].isoformat(),
            "window_end": run["window_end"].isoformat(),
            "verdict": run["status"],
            "severe": bool(run["severe"]),
            "reasons": run["reasons"],
            "drifted_columns": [
                {"column": c["column_name"], "kind": c["kind"], "method": c["method"], "score": c["score"],
                 "threshold": c["threshold"], "threshold_source": c["threshold_source"], "p_value": c["p_value"],
                 "severity": c["severity"]} for c in run["columns"] if c["drifted"]],
            "false_alarm_control": measured.get("false_alarm_control"),
            "performance": None if perf is None else {
                "metric": perf["metric"], "value": perf["value"], "reference": perf["reference_value"],
                "drop": perf["drop_vs_reference"], "labelled_rows": perf["labelled_rows"],
                "ci": [perf["ci_low"], perf["ci_high"]], "allowance": perf["allowance"],
                "allowance_source": perf["allowance_source"], "estimated": perf["estimated_value"],
                "estimated_method": perf["estimated_method"]},
            "row_count": run["row_count"],
            "labelled_rows": run["labelled_rows"],
            "quarantined_rows": run["quarantined_rows"],
            "reference_version": run["reference_version"],
            "revision": run["revision"],
            "report": run["report_path"],
            "retrain": requests.get(run["window_end"]),
        })
    return summaries
