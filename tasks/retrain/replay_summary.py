"""What a replayed retraining policy cost and bought: retrains, promotions, and the served model's metric
against the model that would have served had it never retrained.

Everything is read from the store and the warehouse, in window order, without wall-clock times, so two
replays of the same history print the same summary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import as_utc, utc_naive
from tasks.errors import DriftflowError
from tasks.metrics import score
from tasks.registry.model_files import load_estimator
from tasks.registry.versions import version_row
from tasks.retrain.trainers import predict
from tasks.schedule import resolve_window
from tasks.source.query import read_range
from tasks.store.schema import model_events, monitor_runs, retrain_requests


@dataclass(frozen=True)
class ReplaySummary:
    windows: int
    requests: dict[str, int]  # by final status: promoted, rejected, failed, refused, and any still open
    overrides: int
    promotions: list[str] = field(default_factory=list)  # "v3 from 2013-04-22 06:00"
    metric: str = ""
    compared_windows: int = 0  # windows where both the served and the never-retrained model could be scored
    served: float | None = None  # mean per window
    never_retrained: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The summary in words, as `backfill --actions` prints it."""
        retrains = sum(n for status, n in self.requests.items() if status != "refused")
        out = [f"replayed {self.windows} windows: {retrains} retrain(s) requested, "
               f"{self.requests.get('refused', 0)} refused, {self.overrides} cooldown override(s)",
               f"outcomes: {self.requests.get('promoted', 0)} promoted, {self.requests.get('rejected', 0)} rejected, "
               f"{self.requests.get('failed', 0)} failed"
               + "".join(f", {n} {s}" for s, n in sorted(self.requests.items()) if s in
                         ("requested", "delivered", "running"))]
        if self.promotions:
            out.append("promotions: " + ", ".join(self.promotions))
        if self.served is None or self.never_retrained is None:
            out.append(f"{self.metric or 'metric'}: served vs never retrained not known (no labelled window "
                       "both models could score)")
        else:
            out.append(f"{self.metric} over {self.compared_windows} labelled windows: served {self.served:.4f} vs "
                       f"never retrained {self.never_retrained:.4f} ({self.served - self.never_retrained:+.4f})")
        return out


def summarize_replay(store: sa.Engine, config: ModelConfig, ends: list[datetime]) -> ReplaySummary:
    """The summary of the windows ending at `ends` (oldest first), from what the store recorded of them."""
    first, last = utc_naive(ends[0]), utc_naive(ends[-1])
    with store.connect() as conn:
        statuses = conn.execute(sa.select(retrain_requests.c.status, sa.func.count()).where(
            retrain_requests.c.model == config.name, retrain_requests.c.window_end.between(first, last))
            .group_by(retrain_requests.c.status)).all()
        overrides = conn.execute(sa.select(sa.func.count()).where(
            retrain_requests.c.model == config.name, retrain_requests.c.window_end.between(first, last),
            retrain_requests.c.override.is_not(None))).scalar() or 0
        promoted = conn.execute(sa.select(model_events.c.version, model_events.c.window_end).where(
            model_events.c.model == config.name, model_events.c.event == "promoted",
            model_events.c.window_end.between(first, last)).order_by(model_events.c.window_end,
                                                                      model_events.c.version)).all()
        champions = dict(conn.execute(sa.select(monitor_runs.c.window_end, monitor_runs.c.champion_version).where(
            monitor_runs.c.model == config.name, monitor_runs.c.window_end.between(first, last))).all())
    served, never = compare_served(store, config, ends, {as_utc(k): v for k, v in champions.items()})
    return ReplaySummary(
        windows=len(ends), requests={s: int(n) for s, n in sorted(statuses)}, overrides=int(overrides),
        promotions=[f"v{v} from {as_utc(w):%Y-%m-%d %H:%M}" for v, w in promoted],
        metric=config.performance.metric, compared_windows=len(served),
        served=_mean(served), never_retrained=_mean(never))


def compare_served(store: sa.Engine, config: ModelConfig, ends: list[datetime],
                   champions: dict[datetime, int | None]) -> tuple[list[float], list[float]]:
    """Per labelled window, the metric of the champion that served it and of the first window's champion,
    both scored on the same matured rows; windows where either cannot be scored are left out."""
    baseline = champions.get(as_utc(ends[0]))
    if baseline is None:
        return [], []
    models: dict[int, Any] = {}
    served: list[float] = []
    never: list[float] = []
    cols = config.columns
    for end in ends:
        version = champions.get(as_utc(end))
        if version is None:
            continue
        window = resolve_window(config, end)
        rows = read_range(config, [config.source.id, *cols.features, cols.prediction, cols.target.column],
                          window.labelled_start, window.labelled_end, labelled_only=True)
        if rows.empty or rows[cols.target.column].nunique() < 2:
            continue
        pair = [_score(store, config, models, v, rows, logged_ok=(v == baseline)) for v in (version, baseline)]
        if pair[0] is not None and pair[1] is not None:
            served.append(pair[0])
            never.append(pair[1])
    return served, never


def _score(store: sa.Engine, config: ModelConfig, models: dict[int, Any], version: int, rows: pd.DataFrame,
           logged_ok: bool) -> float | None:
    """A version's metric on the rows: from its model file, or (for the first champion known only by its
    logged predictions) from the log."""
    if version not in models:
        row = version_row(store, config.name, version)
        try:
            models[version] = load_estimator(row) if row else None
        except DriftflowError:
            models[version] = None
    model = models[version]
    if model is None:
        if not logged_ok:
            return None
        prediction = rows[config.columns.prediction].to_numpy(dtype=float)
    else:
        prediction = predict(model, rows, config)
    return score(config.performance.metric, rows[config.columns.target.column], prediction)


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 6) if values else None
