"""The events a monitored window announces, whatever the actions: what notifications and users hang on."""

from __future__ import annotations

from typing import Any

from prefect import runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event


def model_resource(model: str, **labels: str) -> dict[str, str]:
    return {"prefect.resource.id": f"driftflow.model.{model}", "prefect.resource.name": model, **labels}


def window_payload(summary: dict[str, Any], run_url: str | None, report: str | None) -> dict[str, Any]:
    """What a notification about a window needs: model, window, verdict, reasons, columns, links."""
    return {"model": summary["model"], "window_start": summary["window_start"], "window_end": summary["window_end"],
            "verdict": summary["verdict"], "reasons": list(summary["reasons"]),
            "drifted_columns": [c["column"] for c in summary["drifted_columns"]],
            "row_count": summary["row_count"], "reference_version": summary["reference_version"],
            "run_url": run_url, "report": report}


def _report_location(summary: dict[str, Any]) -> str | None:
    from tasks import artifacts
    from tasks.monitor.report import report_link

    if not summary.get("report"):
        return None
    try:
        return report_link(summary["report"]) or artifacts.url_for(artifacts.key_for(summary["report"]))
    except ValueError:
        return None


def run_url() -> str | None:
    """The UI page of the current flow run, as Prefect's own "View at" line names it."""
    from prefect.utilities.urls import url_for

    run_id = runtime.flow_run.id
    return url_for("flow-run", obj_id=run_id) if run_id else None


@task(name="announce-window", cache_policy=NO_CACHE)
def announce_window(summary: dict[str, Any]) -> None:
    """`driftflow.window.recorded` for every window (its verdict a resource label), and
    `driftflow.drift.detected` on a drift verdict, with or without actions (retraining)."""
    payload = window_payload(summary, run_url(), _report_location(summary))
    model = summary["model"]
    emit_event(event="driftflow.window.recorded", payload=payload,
               resource=model_resource(model, **{"driftflow.verdict": summary["verdict"]}))
    if summary["verdict"] == "drift":
        emit_event(event="driftflow.drift.detected", resource=model_resource(model), payload=payload)
