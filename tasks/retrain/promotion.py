"""The promotion gate (pure) and what follows it: registering, promoting, announcing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from tasks.config import ModelConfig
from tasks.registry.versions import Candidate, register_candidate
from tasks.retrain.challenger import Comparison
from tasks.retrain.trigger import model_resource


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


@task(name="decide-promotion", cache_policy=NO_CACHE)
def decide_promotion(comparison: Comparison, min_gain: float) -> PromotionDecision:
    """Promote only a challenger that beats the champion on the same holdout by more than `min_gain`."""
    c = comparison
    scores = (f"{c.metric} on {c.holdout_rows} holdout rows: challenger {_num(c.challenger_score)}, "
              f"champion {_num(c.champion_score)}")
    if c.challenger_score is None:
        return PromotionDecision(False, f"rejected: the challenger could not be scored ({scores})")
    if c.champion_version is None or c.champion_score is None:
        return PromotionDecision(True, f"promoted: no champion to beat ({scores})")
    gain = c.gain or 0.0
    if gain > min_gain:
        return PromotionDecision(True, f"promoted: gain {gain:+.4f} > required {min_gain} ({scores})")
    return PromotionDecision(False, f"rejected: gain {gain:+.4f} does not exceed required {min_gain} ({scores})")


@task(name="register-challenger", cache_policy=NO_CACHE)
def register_challenger(store: sa.Engine, config: ModelConfig, challenger: Candidate,
                        decision: PromotionDecision, reason: str) -> int:
    """Register the version; a promoted one becomes champion and its training data the new reference."""
    status = "champion" if decision.promote else "rejected"
    return register_candidate(store, config, challenger, status=status, reason=f"{reason} → {decision.reason}")


@task(name="announce-decision", cache_policy=NO_CACHE)
def announce_decision(config: ModelConfig, comparison: Comparison, decision: PromotionDecision,
                      version: int) -> None:
    """Event `driftflow.model.promoted` / `.rejected`, and the champion-vs-challenger artifacts."""
    outcome = "promoted" if decision.promote else "rejected"
    emit_event(event=f"driftflow.model.{outcome}", resource=model_resource(config.name), payload={
        "version": version, "champion_version": comparison.champion_version, "metric": comparison.metric,
        "challenger_score": comparison.challenger_score, "champion_score": comparison.champion_score,
        "reason": decision.reason})
    table: list[dict[str, Any]] = [
        {"role": "champion", "version": comparison.champion_version, comparison.metric: _num(comparison.champion_score),
         "holdout rows": comparison.holdout_rows},
        {"role": "challenger", "version": version, comparison.metric: _num(comparison.challenger_score),
         "holdout rows": comparison.holdout_rows}]
    create_table_artifact(key=f"{config.name}-champion-vs-challenger", description=decision.reason, table=table)
    create_markdown_artifact(key=f"{config.name}-promotion", markdown=(
        f"# {config.name}: challenger v{version} {outcome}\n\n{decision.reason}\n"))
