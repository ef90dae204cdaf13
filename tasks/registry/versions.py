"""Model versions: champion / challenger / retired, with their artifacts and the reason they exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import as_utc, utc_naive
from tasks.metrics import score
from tasks.registry.references import activate_reference, save_reference
from tasks.retrain.trainers import Estimator, predict
from tasks.settings import artifacts_dir
from tasks.store.schema import model_versions


@dataclass(frozen=True)
class Candidate:
    """A freshly trained model with the windows it saw and its score on its own holdout."""

    model: Estimator
    trained_from: datetime
    trained_to: datetime
    holdout_from: datetime
    holdout_to: datetime
    holdout_score: float | None
    data: pd.DataFrame  # the labelled rows of the whole training window (train + holdout)


def fit_candidate(config: ModelConfig, data: pd.DataFrame, start: datetime, end: datetime,
                  trainer: Any) -> Candidate:
    """Fit on [start, end - holdout) and score on the holdout [end - holdout, end)."""
    ts, target = config.source.timestamp, config.columns.target.column
    labelled = data[data[target].notna()]
    split = end - config.retraining_or_fail.holdout
    train = labelled[labelled[ts] < split]
    holdout = labelled[labelled[ts] >= split]
    if len(train) == 0 or len(holdout) == 0:
        raise ValueError(f"no labelled rows to train on in [{start:%Y-%m-%d}, {end:%Y-%m-%d})")
    model = trainer(train, train[target], config)
    holdout_score = score(config.performance.metric, holdout[target], predict(model, holdout, config))
    return Candidate(model, start, split, split, end, holdout_score, labelled)


def champion(engine: sa.Engine, model: str) -> dict[str, Any] | None:
    """The current champion's row, or None before the first one."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(model_versions).where(
            model_versions.c.model == model, model_versions.c.status == "champion")).first()
    return _with_utc(dict(row._mapping)) if row else None


def versions(engine: sa.Engine, model: str) -> list[dict[str, Any]]:
    """Every registered version of a model, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(model_versions).where(model_versions.c.model == model)
                            .order_by(model_versions.c.version))
        return [_with_utc(dict(r._mapping)) for r in rows]


def load_estimator(row: dict[str, Any]) -> Estimator:
    return joblib.load(row["artifact_path"])


def register_candidate(engine: sa.Engine, config: ModelConfig, candidate: Candidate, *,
                       status: str, reason: str) -> int:
    """Store the artifact and its reference snapshot, and register the version with `status`."""
    with engine.begin() as conn:
        version = (conn.execute(sa.select(sa.func.max(model_versions.c.version)).where(
            model_versions.c.model == config.name)).scalar() or 0) + 1
        path = artifacts_dir() / "models" / config.name / f"v{version}.joblib"
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(candidate.model, path)
        reference = candidate.data.copy()
        reference[config.columns.prediction] = predict(candidate.model, reference, config)
        save_reference(conn, config, reference, version=f"v{version}", model_version=version,
                       start=candidate.trained_from, end=candidate.holdout_to,
                       performance=candidate.holdout_score)
        conn.execute(sa.insert(model_versions).values(
            model=config.name, version=version, status=status,
            trained_from=utc_naive(candidate.trained_from), trained_to=utc_naive(candidate.trained_to),
            holdout_from=utc_naive(candidate.holdout_from), holdout_to=utc_naive(candidate.holdout_to),
            metric=config.performance.metric, holdout_score=candidate.holdout_score,
            artifact_path=str(path), reason=reason, created_at=utc_naive(datetime.now(UTC))))
        if status == "champion":
            _crown(conn, config.name, version)
    return version


def promote(engine: sa.Engine, model: str, version: int) -> None:
    """Make `version` the champion, retire the old one and re-baseline on the new reference, atomically."""
    with engine.begin() as conn:
        _crown(conn, model, version)


def _crown(conn: sa.Connection, model: str, version: int) -> None:
    conn.execute(sa.update(model_versions).where(
        model_versions.c.model == model, model_versions.c.status == "champion",
        model_versions.c.version != version).values(status="retired"))
    conn.execute(sa.update(model_versions).where(
        model_versions.c.model == model, model_versions.c.version == version).values(status="champion"))
    activate_reference(conn, model, f"v{version}")


def _with_utc(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("trained_from", "trained_to", "holdout_from", "holdout_to", "created_at"):
        row[key] = as_utc(row[key])
    return row


def artifact_exists(row: dict[str, Any]) -> bool:
    return Path(row["artifact_path"]).is_file()
