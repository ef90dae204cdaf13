"""The demo: 2013 replayed week by week as production, with the loop closed.

Each week the current champion scores the week's flights into the warehouse (the serving system), the
`monitor/flights-delay` deployment runs on that window, and a drift verdict's `retrain/flights-delay` run
follows before the next week, so later weeks are scored by whichever champion won.

Deployment runs are created on the Prefect server (they are in the UI with their deployment, parameters,
states and artifacts) and executed in this process, as a worker would execute them in a subprocess.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.flow_engine import run_flow

from flows.deployments import model_deployments, register
from flows.monitor import monitor
from flows.retrain import retrain
from tasks.config import load_model_config
from tasks.db import get_engine
from tasks.demo.flights import score_range, seed
from tasks.demo.reset import reset_to_first_champion
from tasks.schedule import resolve_window, window_ends
from tasks.settings import embedded_store_url, embedded_warehouse_url, store_url, warehouse_url
from tasks.store.engine import open_store

MODEL = "flights-delay"
REPLAY = (datetime(2013, 2, 4, 6, tzinfo=UTC), datetime(2013, 12, 30, 6, tzinfo=UTC))


@dataclass
class Replay:
    weeks: list[dict[str, Any]] = field(default_factory=list)
    retrains: list[dict[str, Any]] = field(default_factory=list)


def execute(flow: Flow[Any, Any], flow_run_id: UUID) -> Any:
    """Run an existing deployment run of `flow` here; returns the flow's result."""
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
    if flow_run.state is not None and flow_run.state.is_final():
        raise RuntimeError(f"flow run {flow_run.name!r} already ended as {flow_run.state_name}; not running it again")
    return run_flow(flow, flow_run=flow_run, parameters=flow.validate_parameters(flow_run.parameters or {}))


@contextmanager
def demo_databases() -> Iterator[None]:
    """The demo runs on its own embedded warehouse and store, whatever DRIFTFLOW_*_URL name for this shell."""
    saved = {name: os.environ.get(name) for name in ("DRIFTFLOW_WAREHOUSE_URL", "DRIFTFLOW_STORE_URL")}
    os.environ["DRIFTFLOW_WAREHOUSE_URL"] = embedded_warehouse_url()
    os.environ["DRIFTFLOW_STORE_URL"] = embedded_store_url()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def replay(progress: Callable[[dict[str, Any]], None] = lambda _week: None,
           start: datetime = REPLAY[0], end: datetime = REPLAY[1]) -> Replay:
    """Seed (through the public `register`), register the deployments, reset the model to its first champion,
    then replay every weekly window in [start, end] on the demo's own databases."""
    with demo_databases():
        return _replay(progress, start, end)


def _replay(progress: Callable[[dict[str, Any]], None], start: datetime, end: datetime) -> Replay:
    config = load_model_config(MODEL)
    seed(config, warehouse_url(), store_url())
    store, warehouse = open_store(), get_engine(warehouse_url())
    register(model_deployments(config, paused=True))  # the replay drives the windows, not the clock
    reset_to_first_champion(store, MODEL)
    result = Replay()
    for window_end in window_ends(config, start, end):
        score_range(config, warehouse, store, resolve_window(config, window_end).start, window_end)
        run: FlowRun = run_deployment(f"monitor/{MODEL}", timeout=0, as_subflow=False,
                             parameters={"model": MODEL, "window_end": window_end.isoformat(), "actions": True})  # type: ignore[assignment]
        week = dict(execute(monitor, run.id))
        result.weeks.append(week)
        request = week.get("retrain") or {}
        if request.get("status") != "refused" and request.get("flow_run_id"):
            result.retrains.append(dict(execute(retrain, UUID(request["flow_run_id"]))))
        progress(week)
    return result


def after_promotion(config_name: str, weeks: list[dict[str, Any]], retrains: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    """For each promotion: new vs old champion on the labelled weeks it served, scored on the same rows."""
    with demo_databases():
        return _after_promotion(config_name, weeks, retrains)


def _after_promotion(config_name: str, weeks: list[dict[str, Any]], retrains: list[dict[str, Any]]
                     ) -> list[dict[str, Any]]:
    from tasks.demo.flights import read_flights
    from tasks.metrics import score
    from tasks.registry.versions import load_estimator, versions
    from tasks.retrain.trainers import predict

    config = load_model_config(config_name)
    by_version = {v["version"]: v for v in versions(open_store(), config_name)}
    promotions = [r for r in retrains if r["outcome"] == "promoted"]
    rows = []
    for i, promo in enumerate(promotions):
        served_from = datetime.fromisoformat(promo["window_end"])
        served_to = (datetime.fromisoformat(promotions[i + 1]["window_end"]) if i + 1 < len(promotions)
                     else datetime.fromisoformat(weeks[-1]["window_end"]))
        if served_to - served_from < timedelta(days=7):
            continue
        flights = read_flights(get_engine(warehouse_url()), served_from, served_to)
        flights = flights[flights[config.columns.target.column].notna()]
        target = flights[config.columns.target.column]
        new = score(config.performance.metric, target,
                    predict(load_estimator(by_version[promo["version"]]), flights, config))
        old = score(config.performance.metric, target,
                    predict(load_estimator(by_version[promo["champion_version"]]), flights, config))
        rows.append({"promoted": promo["version"], "replaced": promo["champion_version"],
                     "from": served_from, "to": served_to, "rows": len(flights), "new": new, "old": old})
    return rows
