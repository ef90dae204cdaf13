"""What a person reads about one window: the Prefect artifacts on the run, and the one-line JSON summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks import artifacts
from tasks.config import ModelConfig
from tasks.results import DriftSummary, Verdict, Window
from tasks.settings import reports_url


def window_summary(config: ModelConfig, window: Window, verdict: Verdict, drift: DriftSummary | None,
                   row_count: int, labelled_rows: int, reference_version: str | None,
                   retrain_request: dict[str, Any] | None = None, quarantined_rows: int = 0,
                   revision: int = 1) -> dict[str, Any]:
    """The JSON-ready summary of one window (what `--json` prints, and what the flow returns)."""
    perf = drift.performance if drift else None
    return {
        "model": config.name,
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "verdict": verdict.status,
        "severe": verdict.severe,
        "reasons": verdict.reasons,
        "drifted_columns": [
            {"column": c.column, "kind": c.kind, "method": c.method, "score": c.score, "threshold": c.threshold,
             "threshold_source": c.threshold_source, "p_value": c.p_value, "severity": c.severity}
            for c in (drift.columns if drift else []) if c.drifted],
        "false_alarm_control": drift.false_alarm_control if drift else None,
        "performance": None if perf is None else {
            "metric": perf.metric, "value": perf.value, "reference": perf.reference_value, "drop": perf.drop,
            "labelled_rows": perf.labelled_rows, "ci": [perf.ci_low, perf.ci_high],
            "allowance": perf.allowance, "allowance_source": perf.allowance_source,
            "estimated": perf.estimated_value, "estimated_method": perf.estimated_method},
        "row_count": row_count,
        "labelled_rows": labelled_rows,
        "quarantined_rows": quarantined_rows,
        "reference_version": reference_version,
        "revision": revision,
        "report": drift.report_path if drift else None,
        "retrain": None if retrain_request is None else {
            "status": retrain_request.get("status"), "decision": retrain_request.get("decision"),
            "flow_run_id": retrain_request.get("flow_run_id")},
    }


def report_link(report: str) -> str | None:
    """Where a browser opens a stored report, or None when no browser can open it directly.

    - DRIFTFLOW_REPORTS_URL set: that base URL and the report's key (the demo's file server, a static site or
      a CDN in front of the bucket): a stable link that never expires.
    - a local artifact folder: the file's URI (opens on the machine that wrote it).
    - a remote store without DRIFTFLOW_REPORTS_URL: None. A presigned URL is deliberately not made: it expires
      (seven days at most on S3) while the run keeps its link forever, and it is a bearer credential that
      would sit in the Prefect database; the run shows the report's location and how to fetch it instead.
    """
    try:
        key = artifacts.key_for(report)
    except ValueError:  # a file outside the artifact root: only its own URI can point at it
        return Path(report).as_uri() if Path(report).is_absolute() else None
    base = reports_url()
    if base:
        return base.rstrip("/") + "/" + key
    if artifacts.is_local():
        return Path(artifacts.url_for(key)).as_uri()
    return None


def report_location_markdown(model: str, window_end: str, report: str) -> str:
    """What a run shows when the report cannot be linked: where it is stored and the command that fetches it."""
    return (f"# Evidently drift report\n\nStored at `{artifacts.url_for(artifacts.key_for(report))}`.\n\n"
            f"Open it with `driftflow report -m {model} --window-end {window_end[:16]}` (copies it to a local "
            "file and prints its path), or set DRIFTFLOW_REPORTS_URL to a site that serves the artifact store.")


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
        low, high = perf.get("ci") or [None, None]
        interval = f", {config.performance.confidence:.0%} interval {_fmt(low)}–{_fmt(high)}" if low is not None \
            else ""
        allowed = _fmt(perf.get("allowance")) if perf.get("allowance") is not None else str(config.performance.max_drop)
        source = f" ({perf['allowance_source']})" if perf.get("allowance_source") else ""
        lines += ["", "## Performance (matured window)",
                  f"{perf['metric']}: {_fmt(perf['value'])}{interval} vs reference {_fmt(perf['reference'])} "
                  f"(drop {_fmt(perf['drop'])}, allowed {allowed}{source}) "
                  f"on {perf['labelled_rows']} labelled rows"]
    if summary.get("false_alarm_control"):
        lines += ["", "## Drift across features", f"False-alarm control: {summary['false_alarm_control']}."]
    if drift is not None and drift.notes:
        lines += ["", "## Notes", *[f"- {note}" for note in drift.notes]]
    if summary.get("retrain"):
        lines += ["", "## Retraining", f"{summary['retrain']['status']}: {summary['retrain']['decision']}"]
    create_markdown_artifact(markdown="\n".join(lines), key=f"{key}-verdict",
                             description=f"{config.name} verdict for the window ending {summary['window_end']}")
    if drift is not None:
        create_table_artifact(key=f"{key}-column-drift", description="Per-column drift", table=[
            {"column": c.column, "kind": c.kind, "method": c.method, "score": _fmt(c.score),
             "threshold": _fmt(c.threshold), "threshold from": c.threshold_source,
             "tail probability": "–" if c.p_value is None else f"{c.p_value:.3g}", "severity": c.severity,
             "drifted": "yes" if c.drifted else "no", "issue": c.issue or c.note or ""}
            for c in drift.columns])
        if drift.report_path:
            link = report_link(drift.report_path)
            if link:
                create_link_artifact(key=f"{key}-evidently-report", link=link,
                                     link_text="Evidently drift report", description="Evidently HTML report")
            else:
                create_markdown_artifact(key=f"{key}-evidently-report", description="Evidently HTML report",
                                         markdown=report_location_markdown(config.name, summary["window_end"],
                                                                           drift.report_path))
