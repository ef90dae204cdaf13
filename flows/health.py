"""The health flow: every monitored model checked, each result announced as a `driftflow.health` event."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from tasks.config import list_models, load_model_config
from tasks.ops.health_check import check_health, emit_health
from tasks.retrain.outbox import sweep_outbox
from tasks.store.engine import open_store


@task(name="check-model-health", cache_policy=NO_CACHE)
def check_model_health(store: sa.Engine, model: str) -> dict[str, Any]:
    """Lateness, failure streak, data freshness and open retrain requests of one model, announced."""
    report = check_health(store, load_model_config(model))
    emit_health(report)
    return report.as_dict()


@task(name="sweep-outbox", cache_policy=NO_CACHE)
def redeliver(store: sa.Engine, models: list[str] | None) -> dict[str, int]:
    totals = {"delivered": 0, "undelivered": 0, "settled": 0}
    chosen: list[str | None] = list(models) if models else [None]  # None: every model at once
    for model in chosen:
        for outcome, count in sweep_outbox(store, model).items():
            totals[outcome] += count
    return totals


@flow(name="health", log_prints=True)
def health(models: list[str] | None = None) -> list[dict[str, Any]]:
    """Redeliver undelivered retrain requests and close those whose run ended (the outbox, swept here too so a
    model whose monitor is paused is not left waiting), then check the health of every monitored model (or of
    `models`) and emit `driftflow.health` for each."""
    store = open_store()
    redeliver(store, models)
    reports = [check_model_health(store, model) for model in models or list_models()]
    for report in reports:
        print(f"{report['model']}: {report['status']}" + "".join(f"\n  {p}" for p in report["problems"]))
    return reports
