"""Reading a window without PostgreSQL: SQL inlining rules, Arrow dtypes, and DuckDB as a warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from tasks.config import ModelConfig, SourceConfig, load_model_config
from tasks.db import get_engine
from tasks.source.query import read_range, window_query
from tasks.source.readers import UnsafeLiteral, arrow_to_pandas, connectorx_url, inline_sql
from tests.factories import flights_batch

START = datetime(2013, 1, 7, tzinfo=UTC)


@pytest.fixture()
def config() -> ModelConfig:
    return load_model_config("flights-delay")


def test_the_window_bounds_are_inlined_as_timestamp_literals(config: ModelConfig) -> None:
    """The window's datetimes become quoted UTC literals with microseconds; identifiers stay quoted."""
    start = datetime(2013, 1, 7, 6, 30, 15, 123456, tzinfo=UTC)
    sql = inline_sql(window_query(config, ["flight_id", "scheduled_at"], start, start + timedelta(days=7),
                                  labelled_only=True).limit(0))
    assert "scheduled_at >= '2013-01-07 06:30:15.123456'" in sql
    assert "scheduled_at < '2013-01-14 06:30:15.123456'" in sql
    assert sql.rstrip().endswith("LIMIT 0")


def test_a_string_value_is_never_inlined() -> None:
    """A query binding a string (which could carry SQL) is refused for inlining."""
    query = sa.select(sa.column("a")).select_from(sa.table("t")).where(sa.column("a") == "x'; DROP TABLE t; --")
    with pytest.raises(UnsafeLiteral, match="str"):
        inline_sql(query)


def test_percent_signs_in_configured_sql_are_not_doubled(config: ModelConfig) -> None:
    """Configured SQL reaches ConnectorX as written: `LIKE 'U%'` is not escaped to `'U%%'`."""
    by_sql = config.model_copy(update={"source": SourceConfig(
        sql="SELECT * FROM flight_predictions WHERE carrier LIKE 'U%'", timestamp="scheduled_at", id="flight_id")})
    assert "LIKE 'U%')" in inline_sql(window_query(by_sql, ["flight_id"], START, START + timedelta(days=7)))


def test_a_sqlalchemy_url_becomes_a_connectorx_url() -> None:
    """The driver is dropped; user, password (still escaped), host, port, database and options are kept."""
    url = sa.make_url("postgresql+psycopg://reader:p%40ss@db.internal:6543/warehouse?sslmode=require")
    assert connectorx_url(url) == "postgresql://reader:p%40ss@db.internal:6543/warehouse?sslmode=require"


def test_connection_options_reach_connectorx_percent_encoded() -> None:
    """A space in `options` is `%20`, not `+` (which ConnectorX would send to the server as a literal plus)."""
    url = sa.make_url("postgresql+psycopg://reader@db/warehouse?options=-c%20TimeZone%3DAmerica/New_York")
    assert connectorx_url(url) == "postgresql://reader@db/warehouse?options=-c%20TimeZone%3DAmerica%2FNew_York"


def test_arrow_columns_come_back_with_the_dtypes_read_sql_gives() -> None:
    """Narrow integers and floats widen to 64 bits, decimals become floats, timestamps nanoseconds."""
    table = pa.table({
        "id": pa.array([1, 2], pa.int32()),
        "ratio": pa.array([0.5, None], pa.float32()),
        "amount": pa.array([Decimal("12.34"), None], pa.decimal128(10, 2)),
        "at": pa.array([datetime(2013, 1, 8, 10), None], pa.timestamp("us")),
        "at_utc": pa.array([datetime(2013, 1, 8, 10, tzinfo=UTC), None], pa.timestamp("us", tz="+00:00")),
        "name": pa.array(["a", None]),
    })
    frame = arrow_to_pandas(table)
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        "id": "int64", "ratio": "float64", "amount": "float64", "at": "datetime64[ns]",
        "at_utc": "datetime64[ns, UTC]", "name": "object"}
    assert frame.loc[0, "amount"] == 12.34


def test_a_duckdb_file_works_as_a_warehouse(config: ModelConfig, tmp_path: Path) -> None:
    """`duckdb:///file` through SQLAlchemy: a window and a `source.sql` window come back exactly, UTC."""
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    rows = flights_batch(3000, seed=3, start=START, days=14)
    rows.loc[rows.index[::17], "temp"] = None
    stored = rows.assign(scheduled_at=rows["scheduled_at"].dt.tz_localize(None))
    with get_engine(url).begin() as conn:
        stored.to_sql("flight_predictions", conn, index=False)

    end = START + timedelta(days=7)
    frame = read_range(config, config.monitored_columns, START, end, url)
    expected = rows[(rows["scheduled_at"] >= START) & (rows["scheduled_at"] < end)][config.monitored_columns]
    pd.testing.assert_frame_equal(frame, expected.reset_index(drop=True), check_exact=True)
    by_sql = config.model_copy(update={"source": SourceConfig(
        sql="SELECT * FROM flight_predictions WHERE carrier LIKE 'U%'", timestamp="scheduled_at", id="flight_id")})
    assert set(read_range(by_sql, by_sql.monitored_columns, START, end, url)["carrier"]) == {"UA", "US"}
    assert len(read_range(config, config.monitored_columns, end + timedelta(days=365), end + timedelta(days=372),
                          url)) == 0
