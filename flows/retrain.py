"""The retrain flow: a challenger trained on recent labels, gated against the champion, maybe promoted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import Flow, flow, runtime
from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed, State

from flows.monitor import load_config
from tasks.retrain.challenger import extract_training_data, score_on_holdout, train_challenger
from tasks.retrain.promotion import announce_decision, decide_promotion, promote, rebaseline, register_challenger
from tasks.retrain.trigger import fail_request, finish_request, start_request
from tasks.store.engine import open_store


def run_name() -> str:
    """'flights-delay retrain 2013-04-22T06:00'."""
    params = runtime.flow_run.parameters
    end = params.get("window_end")
    stamp = end.strftime("%Y-%m-%dT%H:%M") if isinstance(end, datetime) else str(end)[:16]
    return f"{params.get('model')} retrain {stamp}"


def mark_failed(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """A failed or crashed retrain closes its open request from what the registry holds: `promoted` if it died
    after promoting, otherwise `failed` (which starts the failure back-off). A finished request stays as it is."""
    ended = "crashed" if state.is_crashed() else "failed"
    fail_request(open_store(), flow_run.parameters.get("request_key"), f"retrain run {ended}: {state.message}")


@flow(name="retrain", flow_run_name=run_name, on_failure=[mark_failed],
      on_crashed=[mark_failed])
def retrain(model: str, window_end: datetime, reason: str = "requested by hand",
            request_key: str | None = None) -> Any:
    """Train a challenger, gate it against the champion on the same holdout, promote it only if confidently
    better, and re-baseline the monitor on it."""
    store = open_store()
    start_request(store, request_key, str(runtime.flow_run.id) if runtime.flow_run.id else None)
    config = load_config(model)
    data = extract_training_data(config, window_end)
    challenger = train_challenger(config, data, window_end)
    holdout = score_on_holdout(store, config, challenger)
    decision = decide_promotion(holdout, config.retraining_or_fail.promote_if)
    version = register_challenger(store, config, challenger, decision, reason, window_end, request_key)
    if decision.promote:
        promote(store, config, version, window_end, decision)
        rebaseline(store, config, window_end)
    outcome = "promoted" if decision.promote else "rejected"
    finish_request(store, request_key, outcome, decision.reason, version)
    announce_decision(config, holdout, decision, version)
    summary = {"model": model, "window_end": window_end.isoformat(), "outcome": outcome, "version": version,
               "champion_version": holdout.champion_version, "metric": holdout.metric,
               "challenger_score": decision.challenger_score, "champion_score": decision.champion_score,
               "probability": decision.probability, "holdout_rows": decision.holdout_rows, "reason": decision.reason}
    return Completed(name=outcome.capitalize(), message=decision.reason[:500], data=summary)
