"""Reference snapshots: versioned copies of the data the champion was trained on, scored by it."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.db import utc_naive
from tasks.errors import NoReferenceError
from tasks.results import Reference
from tasks.settings import artifacts_dir
from tasks.store.schema import reference_snapshots


def save_reference(conn: sa.Connection, config: ModelConfig, data: pd.DataFrame, *, version: str,
                   model_version: int | None, start: datetime, end: datetime,
                   performance: float | None) -> None:
    """Write the snapshot (Parquet) and register it, inactive until `activate_reference`."""
    path = artifacts_dir() / "references" / config.name / f"{version}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [c for c in config.monitored_columns if c in data]
    data[columns].to_parquet(path, index=False)
    conn.execute(sa.delete(reference_snapshots).where(reference_snapshots.c.model == config.name,
                                                      reference_snapshots.c.version == version))
    conn.execute(sa.insert(reference_snapshots).values(
        model=config.name, version=version, model_version=model_version, window_start=utc_naive(start),
        window_end=utc_naive(end), rows=len(data), performance=performance, path=str(path), active=False,
        created_at=utc_naive(datetime.now(UTC))))


def activate_reference(conn: sa.Connection, model: str, version: str) -> None:
    """Make `version` the one reference later windows are measured against."""
    table = reference_snapshots
    conn.execute(sa.update(table).where(table.c.model == model).values(active=False))
    updated = conn.execute(sa.update(table).where(table.c.model == model, table.c.version == version)
                           .values(active=True))
    if updated.rowcount != 1:
        raise NoReferenceError(f"{model}: no reference snapshot {version!r} to activate")


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
            save_reference(conn, config, data, version=version, model_version=None, start=start, end=end,
                           performance=performance)
    return version


@task(name="load-reference", cache_policy=NO_CACHE)
def load_reference(engine: sa.Engine, config: ModelConfig) -> Reference:
    """The reference later windows are measured against: the active (champion's) snapshot, or the fixed one."""
    table = reference_snapshots
    if config.reference.from_ == "fixed_window":
        which = table.c.version == fixed_window_snapshot(engine, config)
    else:
        which = table.c.active.is_(True)
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.model == config.name, which)).first()
    if row is None:
        raise NoReferenceError(f"{config.name}: no reference snapshot yet; register a champion first "
                               "(for the demo: `driftflow seed`)")
    data = pd.read_parquet(row.path)
    ts = config.source.timestamp
    if ts in data:
        data[ts] = pd.to_datetime(data[ts], utc=True)
    return Reference(version=row.version, data=data, performance=row.performance,
                     model_version=str(row.model_version) if row.model_version is not None else None)
