"""Reference snapshots: versioned copies of the rows a window is compared with, and their baseline.

A reference version is created in exactly one place, `create_reference`, whoever asks for it (a registration,
a promotion, a fixed window), so whatever is computed once per reference version hangs off that function.
"""

from __future__ import annotations

import io
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks import artifacts
from tasks.artifact_keys import read_stored, stored_exists
from tasks.config import ModelConfig
from tasks.db import as_utc, utc_naive
from tasks.errors import NoReferenceError
from tasks.monitor.html_report import sample_rows, seed_for
from tasks.monitor.profile import ReferenceProfile
from tasks.registry.profiles import performance_chunks, profile_reference, read_profile, write_profile
from tasks.results import Reference
from tasks.retries import STORE_OUTAGE
from tasks.store.schema import reference_activations, reference_snapshots

TRAINING_WINDOW = "champion_training_window"  # a trained version: its training window scored by it
LOG_WINDOW = "log_window"  # a registered version: a named window of the inference log
FIXED_WINDOW = "fixed_window"  # `reference: {from: fixed_window}`
STORED_ROWS = 20_000  # rows a snapshot keeps (4x the report's default sample); the profile is built from all


@dataclass(frozen=True)
class ReferenceVersion:
    """What `create_reference` wrote: the version, where its rows are, how many, and the baseline."""

    version: str
    path: str
    rows: int
    performance: float | None


def create_reference(conn: sa.Connection, config: ModelConfig, data: pd.DataFrame, *, version: str,
                     model_version: int | None, start: datetime, end: datetime, performance: float | None,
                     kind: str, out_of_sample_from: datetime | None = None) -> ReferenceVersion:
    """Write the snapshot (Parquet, a key unique per attempt, in the artifact store) and its profile, and register
    them (by URL), inactive until activated.

    The profile (what verdicts are scored against) is built from every row; the Parquet keeps at most
    `STORED_ROWS` of them (or the report's `drift.report_rows`, if more), drawn evenly across time, for what
    needs rows (the report's sample, the performance estimate's calibration), so a reference of half a year
    costs no more to store than one of a few weeks.

    The single place a reference version comes to exist: run it inside the transaction that registers what
    the reference belongs to, so a failed registration leaves no row behind (only an unreferenced file).
    """
    key = f"references/{config.name}/{version}-{uuid.uuid4().hex[:12]}.parquet"
    columns = [c for c in config.monitored_columns if c in data]
    kept = kept_rows(config, data[columns], version)
    buffer = io.BytesIO()
    kept.to_parquet(buffer, index=False, compression="zstd")  # ~15 % smaller than snappy
    path = artifacts.write_bytes(key, buffer.getvalue())
    profile = profile_reference(config, data[columns], start, end,
                                performance_chunks(config, data, start, end, out_of_sample_from))
    profile_path = write_profile(profile, key)
    conn.execute(sa.delete(reference_snapshots).where(reference_snapshots.c.model == config.name,
                                                      reference_snapshots.c.version == version))
    conn.execute(sa.insert(reference_snapshots).values(
        model=config.name, version=version, model_version=model_version, window_start=utc_naive(start),
        window_end=utc_naive(end), rows=len(data), performance=performance, path=str(path), active=False,
        kind=kind, created_at=utc_naive(datetime.now(UTC)), profile_path=str(profile_path),
        calibration=profile.calibration))
    return ReferenceVersion(version, str(path), len(data), performance)


def kept_rows(config: ModelConfig, data: pd.DataFrame, version: str) -> pd.DataFrame:
    """The rows a reference keeps for what needs rows (the report's sample, the estimate): at most
    `STORED_ROWS`, or the report's `drift.report_rows` if more, drawn evenly across time, the same each time."""
    return sample_rows(data, config.source.timestamp, max(STORED_ROWS, config.drift.report_rows),
                       seed_for(config.name, version))


def activate_reference(conn: sa.Connection, model: str, version: str, active_from: datetime | None = None) -> None:
    """Make `version` the one reference later windows are measured against, from window time `active_from`."""
    table = reference_snapshots
    conn.execute(sa.update(table).where(table.c.model == model, table.c.active.is_(True)).values(active=False))
    values: dict[str, object] = {"active": True}
    if active_from is not None:
        values["active_from"] = utc_naive(active_from)
    updated = conn.execute(sa.update(table).where(table.c.model == model, table.c.version == version)
                           .values(**values))
    if updated.rowcount != 1:
        raise NoReferenceError(f"{model}: no reference snapshot {version!r} to activate")
    if active_from is not None:
        conn.execute(sa.insert(reference_activations).values(
            model=model, version=version, active_from=utc_naive(active_from),
            activated_at=utc_naive(datetime.now(UTC))))


def fixed_window_snapshot(engine: sa.Engine, config: ModelConfig) -> str:
    """For `reference: {from: fixed_window}`: snapshot the window's logged rows once; returns its version."""
    from tasks.metrics import score
    from tasks.source.query import read_range

    start, end = config.reference.start, config.reference.end
    if start is None or end is None:
        raise NoReferenceError(f"{config.name}: reference.start and reference.end are needed for a fixed window")
    version = f"fixed-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}"
    with engine.connect() as conn:
        exists = conn.execute(sa.select(reference_snapshots.c.version).where(
            reference_snapshots.c.model == config.name, reference_snapshots.c.version == version)).first()
    if exists is None:
        data = read_range(config, config.monitored_columns, start, end)
        if data.empty:
            raise NoReferenceError(f"{config.name}: the fixed reference window {start} – {end} has no rows")
        target, prediction = config.columns.target.column, config.columns.prediction
        labelled = data.dropna(subset=[target, prediction])
        performance = score(config.performance.metric, labelled[target], labelled[prediction])
        with engine.begin() as conn:
            create_reference(conn, config, data, version=version, model_version=None, start=start, end=end,
                             performance=performance, kind=FIXED_WINDOW)
    return version


def reference_row_at(engine: sa.Engine, model: str, window_end: datetime) -> dict[str, object] | None:
    """The reference that was active at window time `window_end`: the latest activated before it, read from
    every activation there was (`reference_activations`), so a rollback that activates an older reference again
    does not change what the windows before it were measured against.

    A reference activated at a window's end (the promotion or rollback its verdict led to) serves the windows
    after it: that window itself was measured against the one before, and a rerun of it is too. Windows older
    than the first activation use the first reference (a registered champion's reference also serves the
    history before its registration).
    """
    return _activated(engine, model, window_end)


def version_reference_row(engine: sa.Engine, model: str, model_version: int,
                          window_end: datetime | None) -> dict[str, object] | None:
    """The reference of a model version: the latest activated for it before window time `window_end` (see
    `reference_row_at`), else its latest (a version never promoted still has the reference it was registered
    with); None if none."""
    row = _activated(engine, model, window_end, reference_snapshots.c.model_version == model_version) \
        if window_end is not None else None
    if row is None:
        table = reference_snapshots
        with engine.connect() as conn:
            found = conn.execute(sa.select(table).where(table.c.model == model, table.c.model_version == model_version)
                                 .order_by(table.c.created_at.desc()).limit(1)).first()
        row = dict(found._mapping) if found else None
    return row


def _activated(engine: sa.Engine, model: str, window_end: datetime | None,
               *conditions: sa.ColumnElement[bool]) -> dict[str, object] | None:
    """The snapshot of the latest activation before `window_end` among those matching `conditions`; without
    one, that of the first activation (None: never activated). Ties go to the later activation."""
    table, activations = reference_snapshots, reference_activations
    joined = sa.select(table).select_from(activations.join(table, sa.and_(
        table.c.model == activations.c.model, table.c.version == activations.c.version))).where(
        activations.c.model == model, *conditions)
    with engine.connect() as conn:
        row = None
        if window_end is not None:
            row = conn.execute(joined.where(activations.c.active_from < utc_naive(window_end))
                               .order_by(activations.c.active_from.desc(), activations.c.id.desc()).limit(1)).first()
        if row is None:
            row = conn.execute(joined.order_by(activations.c.active_from, activations.c.id).limit(1)).first()
    return dict(row._mapping) if row else None


@task(name="load-reference", cache_policy=NO_CACHE, **STORE_OUTAGE)
def load_reference(engine: sa.Engine, config: ModelConfig, at: datetime | None = None,
                   model_version: int | None = None) -> Reference:
    """The reference a window is measured against: the one moving with the window (`lag`, `rolling`), the
    fixed one, the reference of the model version that made the window's predictions (`model_version`, read
    from the log), the one active at window time `at` (reruns of past windows), or the active (champion's) one."""
    from tasks.registry.moving_references import MOVING, moving_reference

    if config.reference.from_ in MOVING and at is not None:
        moving = moving_reference(config, at)
        if moving is not None:
            return moving
        logging.getLogger("driftflow").warning("%s: the %s reference of the window ending %s holds fewer than %s rows; "
                                 "measured against the champion's reference", config.name, config.reference.from_,
                                 at.isoformat(), config.policy.min_rows)
    table = reference_snapshots
    row: dict[str, object] | None
    with engine.connect() as conn:
        if config.reference.from_ == "fixed_window":
            version = fixed_window_snapshot(engine, config)
            found = conn.execute(sa.select(table).where(table.c.model == config.name, table.c.version == version))
        else:
            found = conn.execute(sa.select(table).where(table.c.model == config.name, table.c.active.is_(True)))
        first = found.first()
        row = dict(first._mapping) if first else None
    if config.reference.from_ != "fixed_window":
        chosen = version_reference_row(engine, config.name, model_version, at) if model_version is not None else None
        if chosen is None and at is not None:
            chosen = reference_row_at(engine, config.name, at)
        row = chosen or row
    if row is None:
        raise NoReferenceError(f"{config.name}: no reference snapshot yet; register the model's champion first: "
                               f"`driftflow register {config.name} --logged --reference-start … --reference-end …` "
                               "(or --file / --mlflow)")
    data = _read_rows(config, row)
    ts = config.source.timestamp
    if ts in data:
        data[ts] = pd.to_datetime(data[ts], utc=True)
    performance = row["performance"]
    profile = _profile_of(engine, config, row, data)
    return Reference(version=str(row["version"]), data=data,
                     performance=float(performance) if isinstance(performance, int | float) else None,
                     model_version=str(row["model_version"]) if row["model_version"] is not None else None,
                     profile=profile, calibration=profile.calibration)


def _read_rows(config: ModelConfig, row: dict[str, object]) -> pd.DataFrame:
    """The snapshot's rows from the artifact store, or a NoReferenceError naming the record and where it looked."""
    try:
        return pd.read_parquet(io.BytesIO(read_stored(str(row["path"]))))
    except (FileNotFoundError, ValueError) as exc:
        raise NoReferenceError(f"{config.name}: reference {row['version']} (reference_snapshots.path) cannot be "
                               f"read: {exc}") from None


def _profile_of(engine: sa.Engine, config: ModelConfig, row: dict[str, object], data: pd.DataFrame) -> ReferenceProfile:
    """The version's stored profile; a version stored before profiles existed gets one now, stored once."""
    stored = row.get("profile_path")
    if stored and stored_exists(str(stored)):
        return read_profile(str(stored))
    start, end = reference_window(row)
    profile = profile_reference(config, data, start, end, performance_chunks(config, data, start, end))
    path = write_profile(profile, str(row["path"]))
    table = reference_snapshots
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.model == config.name, table.c.version == row["version"])
                     .values(profile_path=str(path), calibration=profile.calibration))
    return profile


def reference_window(row: dict[str, object]) -> tuple[datetime, datetime]:
    """A snapshot row's window as aware UTC datetimes."""
    start, end = row["window_start"], row["window_end"]
    assert isinstance(start, datetime) and isinstance(end, datetime)
    return as_utc(start), as_utc(end)
