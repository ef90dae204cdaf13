"""Recorded windows read back from the store in the same shape the monitor returns."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.store.windows import window_runs


def recorded_summaries(engine: sa.Engine, config: ModelConfig, limit: int = 20) -> list[dict[str, Any]]:
    """The newest `limit` windows of a model: verdict, reasons, drifted columns, performance."""
    summaries = []
    for run in window_runs(engine, config.name, limit=limit):
        perf = run["performance"]
        summaries.append({
            "model": config.name,
            "window_start": run["window_start"].isoformat(),
            "window_end": run["window_end"].isoformat(),
            "verdict": run["status"],
            "reasons": run["reasons"],
            "drifted_columns": [
                {"column": c["column_name"], "kind": c["kind"], "method": c["method"], "score": c["score"],
                 "threshold": c["threshold"]} for c in run["columns"] if c["drifted"]],
            "performance": None if perf is None else {
                "metric": perf["metric"], "value": perf["value"], "reference": perf["reference_value"],
                "drop": perf["drop_vs_reference"], "labelled_rows": perf["labelled_rows"]},
            "row_count": run["row_count"],
            "labelled_rows": run["labelled_rows"],
            "reference_version": run["reference_version"],
            "report": run["report_path"],
        })
    return summaries
