"""The registry on PostgreSQL: registrations at the same moment never share a version number or a file."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
import sqlalchemy as sa

import tasks.registry.versions as registry
from tasks.config import load_model_config
from tasks.registry.events import events_of
from tasks.registry.references import load_reference
from tasks.registry.register import register_model
from tasks.store.engine import open_store
from tasks.store.schema import reference_snapshots
from tests.factories import flights_batch, quick_model
from tests.support import write_predictions

pytestmark = pytest.mark.postgres

START = datetime(2013, 1, 7, 6, tzinfo=UTC)
END = START + timedelta(days=14)


def test_two_registrations_at_once_get_their_own_numbers_and_files(postgres_env: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Both transactions read the same highest version (a barrier holds them there); the unique key turns the
    second insert away, it retries with the next number, and the model ends with two versions, one champion,
    two model files and two reference files, each intact."""
    config = load_model_config("flights-delay")
    log = pd.concat([flights_batch(1000, seed=70 + i, start=START + timedelta(days=7 * i)) for i in range(2)],
                    ignore_index=True)
    write_predictions(log, replace=True)
    files = []
    for i in range(2):
        path = tmp_path / f"model-{i}.joblib"
        joblib.dump(quick_model(log.iloc[i::2], log["arrived_late"].iloc[i::2], config), path)
        files.append(path)
    store = open_store()
    barrier = threading.Barrier(2)
    calls: list[int] = []
    local = threading.local()
    read_next = registry.next_version

    def racing_next_version(conn: sa.Connection, model: str) -> int:
        number = read_next(conn, model)
        calls.append(number)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=120)  # both have read the same number before either inserts
        return number

    monkeypatch.setattr(registry, "next_version", racing_next_version)
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            results[i] = register_model(store, config, reference_start=START, reference_end=END, file=files[i])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert sorted(calls) == [1, 1, 2]  # one conflict, one retry
    assert sorted(r.version for r in results.values()) == [1, 2]
    rows = registry.versions(store, config.name)
    assert sorted(r["status"] for r in rows) == ["champion", "retired"]
    paths = [Path(r["artifact_path"]) for r in rows]
    assert len(set(paths)) == 2
    for i, result in results.items():  # each version holds the bytes of the file it was registered from
        row = next(r for r in rows if r["version"] == result.version)
        assert Path(row["artifact_path"]).read_bytes() == files[i].read_bytes()
    with store.connect() as conn:
        references = conn.execute(sa.select(reference_snapshots.c.path, reference_snapshots.c.active)).all()
    assert len({r.path for r in references}) == 2 and sum(r.active for r in references) == 1
    winner = next(r for r in rows if r["status"] == "champion")
    assert load_reference.fn(store, config).version == f"v{winner['version']}"
    assert sorted(e["version"] for e in events_of(store, config.name)) == [1, 2]
