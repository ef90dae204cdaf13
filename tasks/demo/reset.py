"""Put the demo model back to its first champion so a replay starts from the same place every time."""

from __future__ import annotations

import sqlalchemy as sa

from tasks import artifacts
from tasks.artifact_keys import stored_key
from tasks.registry.references import activate_reference
from tasks.store.schema import (
    column_drift,
    model_events,
    model_versions,
    monitor_runs,
    performance,
    reference_activations,
    reference_snapshots,
    retrain_requests,
    validation_results,
    verdict_audit,
)


def reset_to_first_champion(store: sa.Engine, model: str) -> None:
    """Forget the model's windows, requests and later versions (with their model, reference and profile files in
    the artifact store); v1 is champion again."""
    with store.begin() as conn:
        later = conn.execute(sa.select(model_versions.c.artifact_path).where(
            model_versions.c.model == model, model_versions.c.version > 1)).scalars().all()
        snapshots = [location for row in conn.execute(
            sa.select(reference_snapshots.c.path, reference_snapshots.c.profile_path).where(
                reference_snapshots.c.model == model, reference_snapshots.c.version != "v1"))
            for location in row]
        for table in (monitor_runs, column_drift, validation_results, performance, retrain_requests, verdict_audit):
            conn.execute(sa.delete(table).where(table.c.model == model))
        conn.execute(sa.delete(model_events).where(model_events.c.model == model, sa.or_(
            model_events.c.version.is_(None), model_events.c.version > 1, model_events.c.event != "registered")))
        conn.execute(sa.delete(model_versions).where(model_versions.c.model == model, model_versions.c.version > 1))
        conn.execute(sa.delete(reference_snapshots).where(reference_snapshots.c.model == model,
                                                          reference_snapshots.c.version != "v1"))
        conn.execute(sa.delete(reference_activations).where(reference_activations.c.model == model,
                                                            reference_activations.c.version != "v1"))
        conn.execute(sa.update(model_versions).where(model_versions.c.model == model)
                     .values(status="champion", served_to=None))
        activate_reference(conn, model, "v1")
    for location in [*later, *snapshots]:
        if location:
            _delete(location)


def _delete(location: str) -> None:
    """Remove one recorded artifact from the store; a location that is not an artifact is left alone."""
    try:
        artifacts.delete(stored_key(location))
    except ValueError:
        return
