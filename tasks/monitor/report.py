"""What a person reads about one window: the Prefect artifacts on the run, and the one-line JSON summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.results import DriftSummary, Verdict, Window
from tasks.settings import artifacts_dir, reports_url


def window_summary(config: ModelConfig, window: Window, verdict: Verdict, drift: DriftSummary | None,
                   row_count: int, labelled_rows: int, reference_version: str | None,
                   retrain_request: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-ready summary of one window (what `--json` prints, and what the flow returns)."""
    perf = drift.performance if drift else None
    return {
        "model": config.name,
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "verdict": verdict.status,
        "reasons": verdict.reasons,
        "drifted_columns": [
            {"column": c.column, "kind": c.kind, "method": c.method, "score": c.score, "threshold": c.threshold}
            for c in (drift.columns if drift else []) if c.drifted],
        "performance": None if perf is None else {
            "metric": perf.metric, "value": perf.value, "reference": perf.reference_value, "drop": perf.drop,
            "labelled_rows": perf.labelled_rows},
        "row_count": row_count,
        "labelled_rows": labelled_rows,
        "reference_version": reference_version,
        "report": drift.report_path if drift else None,
        "retrain": None if retrain_request is None else {
            "status": retrain_request.get("status"), "decision": retrain_request.get("decision"),
            "flow_run_id": retrain_request.get("flow_run_id")},
    }


def report_link(path: str) -> str:
    """Where a browser opens a report: under DRIFTFLOW_REPORTS_URL when set, else the local file."""
    base = reports_url()
    if base:
        return base.rstrip("/") + "/" + Path(path).resolve().relative_to(artifacts_dir().resolve()).as_posix()
    return Path(path).resolve().as_uri()


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_report(config: ModelConfig, summary: dict[str, Any], drift: DriftSummary | None) -> None:
    """Markdown verdict, per-column drift table and report link as artifacts of the flow run."""
    key = config.name
    verdict = summary["verdict"]
    perf = summary["performance"]
    lines = [f"# {config.name}: **{verdict}**",
             f"Window `{summary['window_start']}` → `{summary['window_end']}` · {summary['row_count']} rows · "
             f"reference `{summary['reference_version']}`", "", "## Reasons",
             *[f"- {reason}" for reason in summary["reasons"]]]
    if perf:
        lines += ["", "## Performance (matured window)",
                  f"{perf['metric']}: {_fmt(perf['value'])} vs reference {_fmt(perf['reference'])} "
                  f"(drop {_fmt(perf['drop'])}, allowed {config.performance.max_drop}) "
                  f"on {perf['labelled_rows']} labelled rows"]
    if summary.get("retrain"):
        lines += ["", "## Retraining", f"{summary['retrain']['status']}: {summary['retrain']['decision']}"]
    create_markdown_artifact(markdown="\n".join(lines), key=f"{key}-verdict",
                             description=f"{config.name} verdict for the window ending {summary['window_end']}")
    if drift is not None:
        create_table_artifact(key=f"{key}-column-drift", description="Per-column drift", table=[
            {"column": c.column, "kind": c.kind, "method": c.method, "score": _fmt(c.score),
             "threshold": c.threshold, "drifted": "yes" if c.drifted else "no", "issue": c.issue or ""}
            for c in drift.columns])
        if drift.report_path:
            create_link_artifact(key=f"{key}-evidently-report", link=report_link(drift.report_path),
                                 link_text="Evidently drift report", description="Evidently HTML report")
