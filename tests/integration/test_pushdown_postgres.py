"""Drift aggregates counted inside PostgreSQL score as the rows do, and as Evidently does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.config import ModelConfig, load_model_config
from tasks.db import get_engine
from tasks.errors import ConfigError
from tasks.monitor.profile import build_profile
from tasks.monitor.scores import score_column
from tasks.monitor.scores_pushdown import certain, score_aggregate
from tasks.source.pushdown import window_aggregates
from tasks.source.query import read_range
from tests.evidently_oracle import evidently_scores
from tests.factories import flights_batch
from tests.integration.conftest import CreateDatabase

pytestmark = pytest.mark.postgres

START = datetime(2013, 1, 7, tzinfo=UTC)
NUMERIC = ["distance", "dep_hour", "temp", "humid", "wind_speed", "precip", "visib", "delay_proba"]
CATEGORICAL = ["carrier", "origin", "dest", "arrived_late"]


@pytest.fixture()
def config() -> ModelConfig:
    return load_model_config("flights-delay")


def warehouse(create_database: CreateDatabase, timestamp_type: str = "timestamp") -> str:
    """Two weeks of scored flights: the second warmer, with nulls, NaN and infinities among the numbers."""
    url = create_database("wh")
    first = flights_batch(4000, seed=5, start=START)
    second = flights_batch(6000, seed=6, start=START + timedelta(days=7), temp_shift=4.0)
    second["flight_id"] += 1_000_000
    frame = pd.concat([first, second], ignore_index=True)
    frame["scheduled_at"] = frame["scheduled_at"].dt.tz_localize(None)
    frame.loc[frame.index[::13], "temp"] = None
    frame.loc[frame.index[::29], "carrier"] = None
    frame.loc[frame.index[::7], "arrived_late"] = None
    with get_engine(url).begin() as conn:
        frame.to_sql("flight_predictions", conn, index=False)
        conn.exec_driver_sql("UPDATE flight_predictions SET wind_speed = 'NaN' WHERE mod(flight_id, 31) = 0")
        conn.exec_driver_sql("UPDATE flight_predictions SET humid = 'Infinity' WHERE mod(flight_id, 37) = 0")
        if timestamp_type != "timestamp":
            conn.exec_driver_sql(f"ALTER TABLE flight_predictions ALTER COLUMN scheduled_at TYPE {timestamp_type}")
    return url


def test_aggregates_score_as_the_rows_and_as_evidently(create_database: CreateDatabase,
                                                       config: ModelConfig) -> None:
    """Categorical scores equal the rows' exactly; Wasserstein is within its stated error of the rows' score
    and of Evidently's, with the same decision; every column counts the rows the monitor would score."""
    url = warehouse(create_database)
    columns = [*NUMERIC, *CATEGORICAL]
    reference = read_range(config, columns, START, START + timedelta(days=7), url)
    window = read_range(config, columns, START + timedelta(days=7), START + timedelta(days=14), url)
    profile = build_profile(reference, NUMERIC, CATEGORICAL)
    aggregates = window_aggregates(config, START + timedelta(days=7), START + timedelta(days=14), profile,
                                   columns, url)
    assert aggregates.rows == len(window)
    pinned = [(c, "numeric", "wasserstein", 0.1) for c in NUMERIC]
    pinned += [(c, "categorical", m, t) for c in CATEGORICAL for m, t in (("jensenshannon", 0.1), ("chisquare", 0.05))]
    oracle = evidently_scores(reference, window, pinned)
    for column, _, chosen, threshold in pinned:
        found = score_aggregate(chosen, profile[column], aggregates.columns[column], threshold)
        rows = score_column(chosen, profile[column], window[column], threshold)
        assert found.rows == rows.rows, column
        evidently_score, evidently_drifted = oracle[(column, chosen)]
        if column in CATEGORICAL:
            assert found.score == rows.score and found.drifted == rows.drifted, column
        else:
            assert found.error is not None and abs(found.score - rows.score) <= found.error + 1e-12, column
            assert abs(found.score - evidently_score) <= found.error + 1e-6, column
            assert found.error < 0.01, column
        if certain(found):
            assert found.drifted == evidently_drifted, column
    temp = score_aggregate("wasserstein", profile["temp"], aggregates.columns["temp"], 0.1)
    assert temp.drifted and certain(temp)  # the warmer week


def test_a_timestamptz_column_is_cut_exactly(create_database: CreateDatabase, config: ModelConfig) -> None:
    url = warehouse(create_database, "timestamptz USING scheduled_at AT TIME ZONE 'UTC'")
    window = read_range(config, ["temp"], START + timedelta(days=7), START + timedelta(days=14), url)
    profile = build_profile(window, ["temp"], [])
    found = window_aggregates(config, START + timedelta(days=7), START + timedelta(days=14), profile, ["temp"], url)
    assert found.rows == len(window)
    assert found.columns["temp"].rows == int(np.isfinite(window["temp"]).sum())


def test_windows_sql_cannot_cut_exactly_are_refused(create_database: CreateDatabase, config: ModelConfig,
                                                    tmp_path: Path) -> None:
    """A local-time timestamp column is compared with a margin in SQL: counting it there would be wrong."""
    url = warehouse(create_database)
    local = config.model_copy(update={"source": config.source.model_copy(update={"timezone": "Europe/Berlin"})})
    profile = build_profile(pd.DataFrame({"temp": [1.0, 2.0]}), ["temp"], [])
    with pytest.raises(ConfigError, match="not compared exactly in SQL"):
        window_aggregates(local, START, START + timedelta(days=7), profile, ["temp"], url)
    sqlite = f"sqlite:///{tmp_path / 'warehouse.db'}"
    with get_engine(sqlite).begin() as conn:
        conn.exec_driver_sql("CREATE TABLE flight_predictions (flight_id integer, scheduled_at text, temp real)")
    with pytest.raises(ConfigError, match="computed in PostgreSQL"):
        window_aggregates(config, START, START + timedelta(days=7), profile, ["temp"], sqlite)
