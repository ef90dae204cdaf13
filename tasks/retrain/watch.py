"""The rollback watch (`retraining.watch`): a promoted model is watched on its first windows in service.

Once the labels of its first `watch.windows` windows in service have matured, the new champion and the one it
replaced are scored on the same labelled rows of those windows. If the previous champion is better with the
gate's confidence (`promote_if.confidence`, paired bootstrap), the promotion is rolled back: the previous
champion and its reference are restored, recorded (`model_versions.status` `rolled_back`, a `model_events`
row) and announced (`driftflow.model.rolled_back`). Otherwise the new champion is kept, recorded once.

`decide_rollback` is the pure decision; `watch_champion` is what the monitor flow calls once per window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.metrics import score
from tasks.registry.events import events_of
from tasks.registry.model_files import artifact_exists, load_estimator
from tasks.registry.versions import record_watch_kept, rollback, version_row
from tasks.retrain.gate import oriented_gain, probability_better
from tasks.retrain.trainers import predict
from tasks.schedule import window_ends

WatchAction = Literal["wait", "keep", "rollback"]


@dataclass(frozen=True)
class WatchDecision:
    action: WatchAction
    reason: str
    rows: int = 0
    new_score: float | None = None
    previous_score: float | None = None
    probability: float | None = None  # P(previous champion better than the new one), paired bootstrap


@dataclass(frozen=True)
class WatchOutcome:
    """What the watch did at one window, for the monitor's summary."""

    model: str
    version: int
    previous_version: int
    window_end: datetime
    decision: WatchDecision


def decide_rollback(*, metric: str, target: np.ndarray, new: np.ndarray, previous: np.ndarray | None,
                    version: int, previous_version: int, windows_matured: int, windows: int, confidence: float,
                    resamples: int, min_rows: int, rollback_enabled: bool = True) -> WatchDecision:
    """Keep, roll back, or wait for more matured windows; the reason states the numbers."""
    if windows_matured < windows:
        return WatchDecision("wait", f"v{version} watched: labels of {windows_matured} of its first {windows} "
                                     "windows in service have matured")
    n = len(target)
    if previous is None:
        return WatchDecision("keep", f"kept v{version}: the previous champion v{previous_version} cannot score the "
                                     "rows it served (no model file)", n)
    if n < min_rows:
        return WatchDecision("keep", f"kept v{version}: only {n} labelled rows in its first {windows} windows, "
                                     f"fewer than {min_rows} to judge it by", n)
    ours, theirs = score(metric, target, new), score(metric, target, previous)
    numbers = (f"{metric} on {n} labelled rows of its first {windows} windows in service: v{version} {_num(ours)}, "
               f"v{previous_version} {_num(theirs)}")
    if ours is None or theirs is None:
        return WatchDecision("keep", f"kept v{version}: {metric} is undefined on these rows ({numbers})", n, ours,
                             theirs)
    chance = probability_better(metric, target, previous, new, min_gain=0.0, resamples=resamples)
    gap = oriented_gain(metric, theirs, ours) or 0.0
    if chance is not None and chance >= confidence and gap > 0:
        verb = "rolled back" if rollback_enabled else "would roll back (watch.rollback is off)"
        action: WatchAction = "rollback" if rollback_enabled else "keep"
        return WatchDecision(action, f"{verb} v{version}: v{previous_version} is better by {gap:+.4f}, "
                                     f"P = {chance:.3f} ≥ {confidence:g} ({numbers})", n, ours, theirs, chance)
    stated = "n/a" if chance is None else f"{chance:.3f}"
    return WatchDecision("keep", f"kept v{version}: P(v{previous_version} better) = {stated} < {confidence:g} "
                                 f"({numbers})", n, ours, theirs, chance)


def watch_champion(store: sa.Engine, config: ModelConfig, window_end: datetime) -> WatchOutcome | None:
    """Called by the monitor flow once per window: decide on a watched champion when its windows have matured.

    None when there is nothing to watch (no retraining, `watch.windows: 0`, no promotion, or the promotion's
    watch already ended). Idempotent: a rerun of the same window finds the decision already recorded.
    """
    retraining = config.retraining
    if retraining is None or retraining.watch.windows == 0:
        return None
    watched = _watched_promotion(store, config.name)
    if watched is None:
        return None
    version, previous_version, served_from = watched
    if window_end <= served_from:  # a rerun of a window before the promotion: nothing to judge there
        return None
    ends = [e for e in window_ends(config, served_from, window_end) if e > served_from][:retraining.watch.windows]
    delay = config.columns.target.label_delay
    matured = sum(1 for e in ends if e + delay <= window_end)
    new_row, old_row = version_row(store, config.name, version), version_row(store, config.name, previous_version)
    if new_row is None or old_row is None:
        return None
    decide = partial(decide_rollback, metric=config.performance.metric, version=version,
                     previous_version=previous_version, windows_matured=matured, windows=retraining.watch.windows,
                     confidence=retraining.promote_if.confidence, resamples=retraining.promote_if.resamples,
                     min_rows=config.performance.min_labelled_rows, rollback_enabled=retraining.watch.rollback)
    if matured < retraining.watch.windows:
        decision = decide(target=np.array([]), new=np.array([]), previous=None)
        return WatchOutcome(config.name, version, previous_version, window_end, decision)
    rows = _served_rows(config, served_from, ends[-1])
    y = rows[config.columns.target.column].to_numpy(dtype=float)
    new = predict(load_estimator(new_row), rows, config)
    previous = predict(load_estimator(old_row), rows, config) if artifact_exists(old_row) else None
    decision = decide(target=y, new=new, previous=previous)
    if decision.action == "rollback":
        rollback(store, config.name, version, previous_version, window_end, decision.reason)
        _announce(config, version, previous_version, window_end, decision)
    else:
        record_watch_kept(store, config.name, version, previous_version, window_end, decision.reason)
    return WatchOutcome(config.name, version, previous_version, window_end, decision)


def _watched_promotion(store: sa.Engine, model: str) -> tuple[int, int, datetime] | None:
    """The last promotion (version, previous version, window time) if its version is champion, unjudged."""
    events = events_of(store, model)
    promotions = [e for e in events if e["event"] == "promoted" and e["previous_version"] is not None]
    if not promotions:
        return None
    last = promotions[-1]
    judged = any(e["event"] in ("kept", "rolled_back") and e["version"] == last["version"] for e in events)
    row = version_row(store, model, int(last["version"]))
    if judged or row is None or row["status"] != "champion" or last["window_end"] is None:
        return None
    return int(last["version"]), int(last["previous_version"]), last["window_end"]


def _served_rows(config: ModelConfig, start: datetime, end: datetime) -> pd.DataFrame:
    from tasks.source.query import read_range

    columns = [config.source.id, config.source.timestamp, *config.columns.features, config.columns.target.column]
    return read_range(config, columns, start, end, labelled_only=True)


def _announce(config: ModelConfig, version: int, previous: int, window_end: datetime, decision: WatchDecision) -> None:
    from prefect.events import emit_event

    from tasks.retrain.trigger import model_resource

    emit_event(event="driftflow.model.rolled_back", resource=model_resource(config.name), payload={
        "version": version, "restored_version": previous, "window_end": window_end.isoformat(),
        "new_score": decision.new_score, "previous_score": decision.previous_score,
        "probability": decision.probability, "rows": decision.rows, "reason": decision.reason})


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
