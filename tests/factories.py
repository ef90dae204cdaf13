"""Small synthetic batches with the flights-delay schema, for tests that need no warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

CARRIERS = ["UA", "B6", "EV", "DL", "AA", "MQ", "US", "9E", "WN"]
ORIGINS = ["EWR", "JFK", "LGA"]
DESTS = ["ATL", "ORD", "LAX", "BOS", "MCO", "CLT", "SFO", "FLL", "MIA", "DCA"]


def flights_batch(rows: int = 2000, *, seed: int = 0, temp_shift: float = 0.0,
                  start: datetime = datetime(2013, 1, 7, tzinfo=UTC), days: int = 7,
                  shifts: dict[str, float] | None = None, concept_shift: bool = False) -> pd.DataFrame:
    """A batch that looks like a week of scored flights.

    `temp_shift` moves the temperature (degrees F); `shifts` adds amounts to any numeric columns;
    `concept_shift` draws the labels from the opposite relationship (late evening flights and rain now make a
    flight *less* likely to be late), so a model trained on ordinary weeks loses its skill: harm, not drift.
    """
    rng = np.random.default_rng(seed)
    temp = rng.normal(35 + temp_shift, 8, rows)
    precip = np.where(rng.random(rows) < 0.9, 0.0, rng.exponential(0.05, rows))
    dep_hour = rng.integers(5, 23, rows)
    logit = -1.6 + 0.08 * (dep_hour - 13) + 4 * precip - 0.01 * (temp - 35)
    proba = 1 / (1 + np.exp(-logit))
    truth = 1 / (1 + np.exp(-(-1.6 - 0.3 * (dep_hour - 13) - 8 * precip))) if concept_shift else proba
    late = (rng.random(rows) < truth).astype(float)
    seconds = np.sort(rng.integers(0, days * 86400, rows))
    frame = pd.DataFrame({
        "flight_id": np.arange(1, rows + 1) + seed * 1_000_000,
        "scheduled_at": pd.to_datetime(start) + pd.to_timedelta(seconds, unit="s"),
        "distance": rng.integers(100, 2600, rows).astype(float),
        "dep_hour": dep_hour.astype(float),
        "temp": temp,
        "humid": np.clip(rng.normal(60, 15, rows), 5, 100),
        "wind_speed": np.abs(rng.normal(10, 5, rows)),
        "precip": precip,
        "visib": np.clip(rng.normal(9.5, 1.0, rows), 0, 10),
        "carrier": rng.choice(CARRIERS, rows),
        "origin": rng.choice(ORIGINS, rows),
        "dest": rng.choice(DESTS, rows),
        "delay_proba": np.clip(proba + rng.normal(0, 0.05, rows), 0.001, 0.999),
        "arrived_late": late,
    })
    for column, amount in (shifts or {}).items():
        frame[column] = frame[column] + amount
    return frame


def week_end(start: datetime = datetime(2013, 1, 7, tzinfo=UTC)) -> datetime:
    return start + timedelta(days=7)


def quick_model(features: pd.DataFrame, target: pd.Series, config: Any) -> Any:
    """A user's own small model, quick to fit: categories one-hot encoded, then a logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = ColumnTransformer([("categories", OneHotEncoder(handle_unknown="ignore"), config.columns.categorical)],
                               remainder=StandardScaler())
    return Pipeline([("encode", encode), ("model", LogisticRegression(max_iter=300))]).fit(
        features[config.columns.features], target)
