"""Helpers shared by the flow and integration tests: a monitored model's warehouse and its weeks.

They act on whatever DRIFTFLOW_WAREHOUSE_URL and DRIFTFLOW_STORE_URL name, so the same weeks can be written
to the embedded SQLite files or to PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from tasks.config import ModelConfig, load_model_config
from tasks.db import get_engine
from tasks.registry.versions import fit_candidate, register_candidate
from tasks.retrain.trainers import gradient_boosting, predict
from tasks.settings import PROJECT_DIR, store_url, warehouse_url
from tasks.store.engine import upgrade_store
from tests.factories import flights_batch

REFERENCE_START = datetime(2013, 1, 7, 6, tzinfo=UTC)  # a Monday 06:00, like the demo's schedule
FIRST_WINDOW_END = REFERENCE_START + timedelta(days=35)  # reference: 4 weeks, then monitored weeks


def write_predictions(frame: pd.DataFrame, *, replace: bool = False) -> None:
    """Append (or replace) rows of the inference log, stored as the warehouse stores them."""
    rows = frame.copy()
    rows["scheduled_at"] = rows["scheduled_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    with get_engine(warehouse_url()).begin() as conn:
        rows.to_sql("flight_predictions", conn, if_exists="replace" if replace else "append", index=False)


def week(n: int, *, seed: int, rows: int = 1500, shifts: dict[str, float] | None = None,
         concept_shift: bool = False) -> pd.DataFrame:
    """Synthetic week `n` of monitoring: it ends at `window_end(n)`."""
    return flights_batch(rows, seed=seed, start=window_end(n) - timedelta(days=7), shifts=shifts,
                         concept_shift=concept_shift)


def seed_monitored(config: ModelConfig) -> ModelConfig:
    """A warehouse with a 4-week reference period scored by a registered champion (v1)."""
    reference = pd.concat([flights_batch(1500, seed=100 + i, start=REFERENCE_START + timedelta(days=7 * i))
                           for i in range(4)], ignore_index=True)
    store = upgrade_store(store_url())
    candidate = fit_candidate(config, reference, REFERENCE_START, REFERENCE_START + timedelta(days=28),
                              gradient_boosting)
    register_candidate(store, config, candidate, status="champion", reason="test champion")
    reference["delay_proba"] = predict(candidate.model, reference, config)
    write_predictions(reference, replace=True)
    return config


def log_week(config: ModelConfig, frame: pd.DataFrame) -> None:
    """Serve a week: the registered champion scores it into the inference log."""
    from tasks.registry.versions import champion, load_estimator

    row = champion(upgrade_store(store_url()), config.name)
    assert row is not None
    scored = frame.copy()
    scored["delay_proba"] = predict(load_estimator(row), scored, config)
    write_predictions(scored)


def window_end(n: int) -> datetime:
    return FIRST_WINDOW_END + timedelta(days=7 * n)


def table_rows(table: str) -> int:
    with get_engine(store_url()).connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


SAMPLE_VALUES: dict[type, object] = {int: 7, float: 0.25, str: "x", bool: True, datetime: datetime(2013, 2, 11, 6)}


def sample_row(table: sa.Table) -> dict[str, object]:
    """A value for every column, chosen by the column's Python type (JSON columns get a list)."""
    return {column.name: ["a reason"] if isinstance(column.type, sa.JSON) else SAMPLE_VALUES[column.type.python_type]
            for column in table.columns}


def assert_upgrade_keeps_rows(url: str, *, from_revision: str = "0001") -> None:
    """A store created at `from_revision` and holding a row in each of its tables, upgraded to head,
    still holds those rows with the same values in the columns that revision had.

    Generic on purpose: every table and column is found by reflection, so later migrations are covered.
    """
    from alembic.script import ScriptDirectory

    from tasks.store.engine import MIGRATIONS

    engine = upgrade_store(url, revision=from_revision)
    before = sa.MetaData()
    before.reflect(engine)
    tables = [t for t in before.sorted_tables if t.name != "alembic_version"]
    assert tables, f"revision {from_revision} created no tables"
    rows = {t.name: sample_row(t) for t in tables}
    with engine.begin() as conn:
        for table in tables:
            conn.execute(sa.insert(table).values(rows[table.name]))

    upgrade_store(url, revision="head")
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        for table in tables:
            stored = [dict(r._mapping) for r in conn.execute(sa.select(*table.columns))]
            assert stored == [rows[table.name]], f"{table.name}: rows changed by the upgrade"
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert version == head


# The loop's mechanics (persistence, retraining, promotion) are tested on input shifts that breach at once:
# these tests opt the features into breaches. The defaults (input drift warns) have tests of their own.
FEATURES_BREACH = {"drift__severity": {"features": "breach"}}


def copy_project(root: Path, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> ModelConfig:
    """A copy of the project's configuration under `root`, with `changes` applied to flights-delay.yaml."""
    raw = yaml.safe_load((PROJECT_DIR / "deployments/models/flights-delay.yaml").read_text())
    for dotted, value in changes.items():
        *path, leaf = dotted.split("__")
        node = raw
        for part in path:
            node = node[part]
        node[leaf] = value
    models = root / "project" / "deployments" / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / "flights-delay.yaml").write_text(yaml.safe_dump(raw))
    (root / "project" / "expectations").mkdir(exist_ok=True)
    suite = PROJECT_DIR / "expectations" / "flights-delay.json"
    (root / "project" / "expectations" / suite.name).write_text(suite.read_text())
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(root / "project"))
    return load_model_config("flights-delay")


def flush_prefect_workers() -> None:
    """Send the queued logs and events, and retire the workers that send them.

    Prefect keeps one events worker per process whatever the API URL, so without this the events of a test
    would go to whichever server the worker first connected to, and later tests' events to a stopped one.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)
    EventsWorker.drain_all(timeout=30)
