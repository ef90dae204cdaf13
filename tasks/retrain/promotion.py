"""What follows the gate: registering the challenger, promoting it, re-baselining, announcing the decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from tasks.config import ModelConfig, PromotionGate
from tasks.registry import versions as registry
from tasks.registry.versions import Candidate
from tasks.retrain.gate import HoldoutScores, PromotionDecision
from tasks.retrain.gate import decide_promotion as gate
from tasks.retrain.trigger import model_resource


@task(name="decide-promotion", cache_policy=NO_CACHE)
def decide_promotion(scores: HoldoutScores, promote_if: PromotionGate) -> PromotionDecision:
    """The gate: promote only a challenger better than the champion on the same holdout, with confidence."""
    return gate(scores, promote_if)


@task(name="register-challenger", cache_policy=NO_CACHE)
def register_challenger(store: sa.Engine, config: ModelConfig, challenger: Candidate, decision: PromotionDecision,
                        reason: str, window_end: datetime, request_key: str | None = None) -> int:
    """Register the version with its file and reference: a challenger awaiting promotion, or rejected."""
    return registry.register_candidate(store, config, challenger,
                                       status="challenger" if decision.promote else "rejected",
                                       reason=f"{reason} → {decision.reason}", window_end=window_end,
                                       request_key=request_key)


@task(name="promote", cache_policy=NO_CACHE)
def promote(store: sa.Engine, config: ModelConfig, version: int, window_end: datetime,
            decision: PromotionDecision) -> int | None:
    """The challenger becomes champion from this window on; the champion it replaces retires."""
    return registry.promote(store, config.name, version, window_end, decision.reason)


@task(name="re-baseline", cache_policy=NO_CACHE)
def rebaseline(store: sa.Engine, config: ModelConfig, window_end: datetime) -> str:
    """Later windows are measured against the new champion's reference (its training window scored by it)."""
    return registry.rebaseline(store, config.name, window_end)


@task(name="announce-decision", cache_policy=NO_CACHE)
def announce_decision(config: ModelConfig, scores: HoldoutScores, decision: PromotionDecision, version: int) -> None:
    """Event `driftflow.model.promoted` / `.rejected`, and the champion-vs-challenger artifacts."""
    outcome = "promoted" if decision.promote else "rejected"
    emit_event(event=f"driftflow.model.{outcome}", resource=model_resource(config.name), payload={
        "version": version, "champion_version": scores.champion_version, "metric": scores.metric,
        "challenger_score": decision.challenger_score, "champion_score": decision.champion_score,
        "probability": decision.probability, "holdout_rows": decision.holdout_rows, "reason": decision.reason})
    table: list[dict[str, Any]] = [
        {"role": "champion", "version": scores.champion_version,
         scores.metric: _num(decision.champion_score), "holdout rows": decision.holdout_rows,
         "scored as": scores.champion_source},
        {"role": "challenger", "version": version, scores.metric: _num(decision.challenger_score),
         "holdout rows": decision.holdout_rows, "scored as": "retrained model"}]
    create_table_artifact(key=f"{config.name}-champion-vs-challenger", description=decision.reason, table=table)
    create_markdown_artifact(key=f"{config.name}-promotion", markdown=(
        f"# {config.name}: challenger v{version} {outcome}\n\n{decision.reason}\n"))


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
