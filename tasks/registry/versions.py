"""Model versions: champion / rejected / retired / rolled_back, with their files, references and reasons.

Version numbers come from the database: the next number is read and inserted under the (model, version) key,
and a registration that loses the race to another one retries with the next number. Files are written under
names unique per attempt, so concurrent registrations never overwrite each other. Crowning a champion is
guarded by a per-model lock, so there is never more than one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import as_utc, utc_naive
from tasks.errors import StateConflict
from tasks.metrics import score
from tasks.registry.events import ModelEvent, record_event
from tasks.registry.model_files import artifact_exists, load_estimator, save_estimator
from tasks.registry.references import TRAINING_WINDOW, activate_reference, create_reference
from tasks.retrain.trainers import Estimator, predict, train_with
from tasks.store.schema import model_versions, reference_snapshots

VersionKind = Literal["logged", "file", "mlflow", "trained", "deployment"]
MAX_ATTEMPTS = 20

__all__ = ["Candidate", "NewVersion", "artifact_exists", "champion", "fit_candidate", "load_estimator", "promote",
           "rebaseline", "register_candidate", "register_version", "version_baselines", "versions"]


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
    kind: VersionKind = "trained"
    trainer: str | None = None  # the entry point or deployment that made it


@dataclass(frozen=True)
class NewVersion:
    """Everything a version is registered with. `estimator` None: known only by its logged predictions."""

    kind: VersionKind
    status: Literal["champion", "rejected", "challenger"]  # challenger: promoted (or not) by a later step
    reason: str
    event: ModelEvent | None
    window_end: datetime  # window time of the decision: a champion serves from here
    reference: pd.DataFrame  # the reference rows (the prediction column is this version's output)
    reference_start: datetime
    reference_end: datetime
    reference_kind: str
    baseline: float | None  # the version's performance on its reference (the monitor's baseline)
    holdout_from: datetime
    holdout_to: datetime
    metric: str
    trained_from: datetime | None = None
    trained_to: datetime | None = None
    estimator: Any = None
    artifact_path: str | None = None  # a file already in the artifact store (instead of `estimator`)
    source_uri: str | None = None
    trainer: str | None = None
    request_key: str | None = None


def fit_candidate(config: ModelConfig, data: pd.DataFrame, start: datetime, end: datetime,
                  trainer: Any, trainer_name: str | None = None) -> Candidate:
    """Fit on [start, end - holdout) and score on the holdout [end - holdout, end)."""
    from tasks.errors import TrainerError

    ts, target = config.source.timestamp, config.columns.target.column
    labelled = data[data[target].notna()]
    split = end - config.retraining_or_fail.holdout
    train = labelled[labelled[ts] < split]
    holdout = labelled[labelled[ts] >= split]
    if len(train) == 0 or len(holdout) == 0:
        empty = (f"to train on in [{start:%Y-%m-%d}, {split:%Y-%m-%d})" if len(train) == 0 else
                 f"in the holdout [{split:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) (retraining.holdout)")
        raise TrainerError(f"{config.name}: no labelled rows {empty} (train {len(train)}, holdout {len(holdout)} "
                           "rows)")
    features = train[[c for c in (config.source.id, ts, *config.columns.features) if c in train]]
    model = train_with(trainer, trainer_name or str(getattr(trainer, "__name__", "trainer")), features,
                       train[target], config)
    holdout_score = score(config.performance.metric, holdout[target], predict(model, holdout, config))
    return Candidate(model, start, split, split, end, holdout_score, labelled, trainer=trainer_name)


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


def version_row(engine: sa.Engine, model: str, version: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(model_versions).where(
            model_versions.c.model == model, model_versions.c.version == version)).first()
    return _with_utc(dict(row._mapping)) if row else None


def register_version(engine: sa.Engine, config: ModelConfig, new: NewVersion) -> int:
    """Store the file, the version, its reference and the event in one transaction; returns the version number.

    A champion retires the previous one and activates its reference from `new.window_end`.
    """
    path = new.artifact_path
    if path is None and new.estimator is not None:
        path = str(save_estimator(config.name, "model", new.estimator))
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with engine.begin() as conn:
                return _insert(conn, config, new, path)
        except sa.exc.IntegrityError:
            continue  # another registration took this number first: read the next one and try again
    raise StateConflict(f"{config.name}: no free version number after {MAX_ATTEMPTS} attempts")


def _in_sample_until(new: NewVersion) -> datetime | None:
    """Where the reference stops being the model's own training rows (None: none of it is)."""
    trained_to = new.trained_to
    if trained_to is None or new.reference_start is None:
        return None
    return trained_to if trained_to > new.reference_start else None


def _insert(conn: sa.Connection, config: ModelConfig, new: NewVersion, path: str | None) -> int:
    model = config.name
    if conn.dialect.name == "sqlite":  # take the write lock first: SQLite cannot upgrade a stale read
        conn.execute(sa.update(model_versions).where(sa.false()).values(status="champion"))
    version = next_version(conn, model)
    conn.execute(sa.insert(model_versions).values(
        model=model, version=version, status="challenger", kind=new.kind,
        trained_from=_naive(new.trained_from), trained_to=_naive(new.trained_to),
        holdout_from=utc_naive(new.holdout_from), holdout_to=utc_naive(new.holdout_to), metric=new.metric,
        holdout_score=new.baseline, artifact_path=path, reason=new.reason, source_uri=new.source_uri,
        trainer=new.trainer, request_key=new.request_key, created_at=utc_naive(datetime.now(UTC))))
    create_reference(conn, config, new.reference, version=f"v{version}", model_version=version,
                     start=new.reference_start, end=new.reference_end, performance=new.baseline,
                     kind=new.reference_kind, out_of_sample_from=_in_sample_until(new))
    previous = _lock_champion(conn, model)
    if new.status == "champion":
        crown(conn, model, version, new.window_end)
        activate_reference(conn, model, f"v{version}", new.window_end)
    elif new.status == "rejected":
        conn.execute(sa.update(model_versions).where(model_versions.c.model == model,
                                                     model_versions.c.version == version).values(status=new.status))
    if new.event is not None:
        record_event(conn, model, new.event, version=version, previous_version=previous,
                     window_end=new.window_end, reason=new.reason)
    return version


def next_version(conn: sa.Connection, model: str) -> int:
    """The next free version number as this transaction sees it (the unique key settles any race)."""
    highest = conn.execute(sa.select(sa.func.max(model_versions.c.version))
                           .where(model_versions.c.model == model)).scalar()
    return int(highest or 0) + 1


def _lock_champion(conn: sa.Connection, model: str) -> int | None:
    """Serialise champion changes of one model (PostgreSQL advisory lock); returns the current champion."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"driftflow:champion:{model}"})
    return conn.execute(sa.select(model_versions.c.version).where(
        model_versions.c.model == model, model_versions.c.status == "champion")).scalar()


def crown(conn: sa.Connection, model: str, version: int, window_end: datetime) -> None:
    """Make `version` the champion from window time `window_end`; the old one retires (references untouched)."""
    moment = utc_naive(window_end)
    conn.execute(sa.update(model_versions).where(
        model_versions.c.model == model, model_versions.c.status == "champion",
        model_versions.c.version != version).values(status="retired", served_to=moment))
    crowned = conn.execute(sa.update(model_versions).where(
        model_versions.c.model == model, model_versions.c.version == version,
        model_versions.c.status.in_(("challenger", "retired", "champion"))).values(
        status="champion", served_from=moment, served_to=None))
    if crowned.rowcount != 1:
        raise StateConflict(f"{model}: version {version} cannot become champion from its current state")


def promote(engine: sa.Engine, model: str, version: int, window_end: datetime, reason: str) -> int | None:
    """Crown a registered challenger from window time `window_end`; returns the champion it replaced."""
    with engine.begin() as conn:
        previous = _lock_champion(conn, model)
        crown(conn, model, version, window_end)
        record_event(conn, model, "promoted", version=version, previous_version=previous, window_end=window_end,
                     reason=reason)
    return previous


def rebaseline(engine: sa.Engine, model: str, window_end: datetime) -> str:
    """Make the champion's reference the one later windows are measured against; idempotent."""
    with engine.begin() as conn:
        current = _lock_champion(conn, model)
        if current is None:
            raise StateConflict(f"{model}: no champion to re-baseline on")
        reference = f"v{current}"
        active = conn.execute(sa.select(reference_snapshots.c.version).where(
            reference_snapshots.c.model == model, reference_snapshots.c.active.is_(True))).scalar()
        if active != reference:
            activate_reference(conn, model, reference, window_end)
    return reference


def rollback(engine: sa.Engine, model: str, version: int, previous: int, window_end: datetime, reason: str) -> None:
    """Undo the promotion of `version`: it becomes `rolled_back`, `previous` champion again with its reference,
    from window time `window_end`. Only from champion / retired respectively, in one transaction."""
    moment = utc_naive(window_end)
    with engine.begin() as conn:
        _lock_champion(conn, model)
        demoted = conn.execute(sa.update(model_versions).where(
            model_versions.c.model == model, model_versions.c.version == version,
            model_versions.c.status == "champion").values(status="rolled_back", served_to=moment))
        restored = conn.execute(sa.update(model_versions).where(
            model_versions.c.model == model, model_versions.c.version == previous,
            model_versions.c.status == "retired").values(status="champion", served_from=moment, served_to=None))
        if demoted.rowcount != 1 or restored.rowcount != 1:
            raise StateConflict(f"{model}: cannot roll v{version} back to v{previous} (v{version} is no longer "
                                f"champion or v{previous} not retired)")
        activate_reference(conn, model, f"v{previous}", window_end)
        record_event(conn, model, "rolled_back", version=version, previous_version=previous, window_end=window_end,
                     reason=reason)


def record_watch_kept(engine: sa.Engine, model: str, version: int, previous: int, window_end: datetime,
                      reason: str) -> None:
    """The watch ended and kept `version`: recorded once, so later windows do not judge it again."""
    with engine.begin() as conn:
        _lock_champion(conn, model)
        record_event(conn, model, "kept", version=version, previous_version=previous, window_end=window_end,
                     reason=reason)


def register_candidate(engine: sa.Engine, config: ModelConfig, candidate: Candidate, *,
                       status: Literal["champion", "rejected", "challenger"], reason: str,
                       window_end: datetime | None = None, request_key: str | None = None) -> int:
    """Register a trained candidate: its file, and its training window scored by it as its reference.

    `champion` crowns it and activates its reference at once (a first champion); `challenger` leaves both to
    `promote` and `rebaseline`; `rejected` records it as turned down.
    """
    reference = candidate.data.copy()
    reference[config.columns.prediction] = predict(candidate.model, reference, config)
    events: dict[str, ModelEvent | None] = {"champion": "registered", "rejected": "rejected", "challenger": None}
    return register_version(engine, config, NewVersion(
        kind=candidate.kind, status=status, reason=reason,
        event=events[status], window_end=window_end or candidate.holdout_to,
        reference=reference, reference_start=candidate.trained_from, reference_end=candidate.holdout_to,
        reference_kind=TRAINING_WINDOW, baseline=candidate.holdout_score, holdout_from=candidate.holdout_from,
        holdout_to=candidate.holdout_to, metric=config.performance.metric, trained_from=candidate.trained_from,
        trained_to=candidate.trained_to, estimator=candidate.model, trainer=candidate.trainer,
        request_key=request_key))


@dataclass(frozen=True)
class Baseline:
    """A version's reference performance: what predictions made by that version are compared with."""

    version: int
    metric: str
    performance: float | None
    reference_version: str


def version_baselines(engine: sa.Engine, model: str) -> dict[int, Baseline]:
    """The baseline of every version that has a reference, keyed by version number."""
    query = (sa.select(model_versions.c.version, model_versions.c.metric, reference_snapshots.c.performance,
                       reference_snapshots.c.version.label("reference_version"))
             .join(reference_snapshots, sa.and_(reference_snapshots.c.model == model_versions.c.model,
                                                reference_snapshots.c.model_version == model_versions.c.version))
             .where(model_versions.c.model == model))
    with engine.connect() as conn:
        return {r.version: Baseline(r.version, r.metric, r.performance, r.reference_version)
                for r in conn.execute(query)}


def version_of(logged: object) -> int | None:
    """A model-version value as a serving system logs it (3, 3.0, '3', 'v3') to the version number."""
    text = str(logged).strip().lower().removeprefix("v")
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _naive(moment: datetime | None) -> datetime | None:
    return utc_naive(moment) if moment is not None else None


def _with_utc(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("trained_from", "trained_to", "holdout_from", "holdout_to", "created_at", "served_from",
                "served_to"):
        if row.get(key) is not None:
            row[key] = as_utc(row[key])
    return row
