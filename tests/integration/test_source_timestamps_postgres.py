"""Exact [start, end) windows on PostgreSQL for `timestamp`, `timestamptz`, `date` and text columns, in a
session whose TimeZone is not UTC, through both readers (ConnectorX and SQLAlchemy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

import tasks.source.readers as readers
from tasks.config import ModelConfig, SourceConfig, load_model_config
from tasks.db import warehouse_engine
from tasks.errors import SourceError, WarehouseUnavailable
from tasks.source.query import read_range
from tests.integration.conftest import CreateDatabase, libpq_url, refuse_fallback

pytestmark = pytest.mark.postgres

START = datetime(2024, 1, 8, tzinfo=UTC)
END = START + timedelta(days=7)
NEW_YORK = ZoneInfo("America/New_York")
SESSION_ZONE = "?options=-c%20TimeZone%3DAmerica/New_York"

STORAGES = {  # column type -> how a UTC instant is written into it (by a session in New York)
    "timestamptz": lambda m: m.astimezone(NEW_YORK).isoformat(),
    "timestamp": lambda m: m.strftime("%Y-%m-%d %H:%M:%S.%f"),
    "text": lambda m: m.strftime("%Y-%m-%dT%H:%M:%S"),
    "varchar(40)": lambda m: m.astimezone(NEW_YORK).isoformat(sep=" "),
}


def log_config(timezone: str = "UTC") -> ModelConfig:
    base = load_model_config("flights-delay")
    return base.model_copy(update={"source": SourceConfig(table="log", timestamp="seen_at", id="id",
                                                          timezone=timezone)})


def daily_moments() -> list[datetime]:
    """One row just before the window, seven daily rows from exactly its start, one at exactly its end."""
    return [START - timedelta(microseconds=1), *(START + timedelta(days=d) for d in range(8))]


def warehouse(create_database: CreateDatabase, column: str, values: list[str]) -> str:
    """A database with `log(id, seen_at <column>, y)` written by a New York session; its URL keeps that zone."""
    url = create_database("ts")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'America/New_York'")
        conn.execute(f"CREATE TABLE log (id integer PRIMARY KEY, seen_at {column}, y integer)")
        conn.execute("CREATE INDEX log_seen_at ON log (seen_at)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO log VALUES (%s, %s, 1)", list(enumerate(values)))
    return url + SESSION_ZONE


def read_both(url: str, config: ModelConfig, start: datetime, end: datetime,
              monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The window through ConnectorX (no fallback allowed) and through SQLAlchemy only."""
    with monkeypatch.context() as patch:
        refuse_fallback(patch)
        fast = read_range(config, ["id", "seen_at", "y"], start, end, url)
    with monkeypatch.context() as patch:
        patch.setattr(readers, "_connectorx", lambda: None)
        plain = read_range(config, ["id", "seen_at", "y"], start, end, url)
    return fast, plain


@pytest.mark.parametrize("column", list(STORAGES))
def test_a_week_holds_its_seven_rows_whatever_the_storage_and_session_zone(
        create_database: CreateDatabase, column: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start in, end out, the row a microsecond before out: in a New York session, on both readers."""
    url = warehouse(create_database, column, [STORAGES[column](m) for m in daily_moments()])
    with warehouse_engine(url).connect() as conn:
        assert conn.execute(sa.text("SHOW TimeZone")).scalar() == "America/New_York"
    for frame in read_both(url, log_config(), START, END, monkeypatch):
        assert [int(i) for i in frame["id"]] == [1, 2, 3, 4, 5, 6, 7]
        assert frame["seen_at"].iloc[0] == pd.Timestamp(START)
        assert str(frame["seen_at"].dtype) == "datetime64[ns, UTC]"


def test_date_columns_give_whole_days(create_database: CreateDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    url = warehouse(create_database, "date", [(START + timedelta(days=d)).date().isoformat() for d in range(-1, 8)])
    for frame in read_both(url, log_config(), START, END, monkeypatch):
        assert [int(i) for i in frame["id"]] == [1, 2, 3, 4, 5, 6, 7]


def test_naive_timestamps_in_the_source_timezone(create_database: CreateDatabase,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`timestamp` holding New York wall-clock times, hourly across the autumn DST change."""
    start = datetime(2024, 11, 3, 4, tzinfo=UTC)
    moments = [start + timedelta(hours=h) for h in range(-2, 8)]
    url = warehouse(create_database, "timestamp",
                    [m.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S") for m in moments])
    for frame in read_both(url, log_config("America/New_York"), start, start + timedelta(hours=6), monkeypatch):
        assert [int(i) for i in frame["id"]] == [2, 3, 4, 5, 6, 7]


def test_a_missing_column_in_the_query_is_a_source_error(create_database: CreateDatabase) -> None:
    """PostgreSQL's 'column does not exist' names the model file and source.sql; it is not an outage."""
    url = warehouse(create_database, "timestamptz", [STORAGES["timestamptz"](START)])
    config = log_config().model_copy(update={"source": SourceConfig(
        sql="SELECT id, seen_at, nope FROM log", timestamp="seen_at", id="id")})
    with pytest.raises(SourceError, match=r"flights-delay\.yaml: source\.sql: the warehouse refused") as raised:
        read_range(config, ["id"], START, END, url)
    assert not isinstance(raised.value, WarehouseUnavailable)


def test_a_read_only_session_cannot_write(create_database: CreateDatabase) -> None:
    """The warehouse engine opens read-only transactions: a write through it is refused by PostgreSQL."""
    url = warehouse(create_database, "timestamptz", [STORAGES["timestamptz"](START)])
    with pytest.raises(sa.exc.InternalError, match="read-only transaction"), warehouse_engine(url).begin() as conn:
        conn.execute(sa.text("DELETE FROM log"))
