"""Reading a window from PostgreSQL: ConnectorX (Arrow) and SQLAlchemy give the same frame."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

import tasks.source.readers as readers
from tasks.config import ModelConfig, SourceConfig, load_model_config
from tasks.db import get_engine
from tasks.source.query import read_range, window_query
from tasks.source.readers import UnsafeLiteral, inline_sql, read_frame, read_frame_sqlalchemy
from tests.factories import flights_batch
from tests.integration.conftest import CreateDatabase, refuse_fallback

pytestmark = pytest.mark.postgres

START = datetime(2013, 1, 7, tzinfo=UTC)


@pytest.fixture()
def config() -> ModelConfig:
    return load_model_config("flights-delay")


@pytest.fixture()
def warehouse(create_database: CreateDatabase) -> sa.Engine:
    """A fresh PostgreSQL warehouse holding two weeks of scored flights, some values missing."""
    engine = get_engine(create_database("wh"))
    frame = flights_batch(3000, seed=3, start=START, days=14)
    frame["scheduled_at"] = frame["scheduled_at"].dt.tz_localize(None)
    frame.loc[frame.index[::17], "temp"] = None
    frame.loc[frame.index[::23], "carrier"] = None
    frame.loc[frame.index[::5], "arrived_late"] = None
    with engine.begin() as conn:
        frame.to_sql("flight_predictions", conn, index=False)
    return engine


def both_paths(engine: sa.Engine, query: sa.Select, monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, ...]:
    """The frame read through ConnectorX (no fallback allowed) and through SQLAlchemy."""
    plain = read_frame_sqlalchemy(engine, query)
    with monkeypatch.context() as patch:
        refuse_fallback(patch)
        fast = read_frame(engine, query)
    return fast, plain


def test_connectorx_and_sqlalchemy_read_the_same_window(warehouse: sa.Engine, config: ModelConfig,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A week's window comes back with equal values, dtypes and (naive UTC, ns) timestamps on both paths."""
    query = window_query(config, config.monitored_columns, START, START + timedelta(days=7))
    fast, plain = both_paths(warehouse, query, monkeypatch)
    pd.testing.assert_frame_equal(fast, plain, check_exact=True)
    assert 1000 < len(fast) < 2000  # the first of two weeks
    assert fast["scheduled_at"].dtype == "datetime64[ns]"
    assert fast["scheduled_at"].min() >= pd.Timestamp("2013-01-07")
    assert fast["scheduled_at"].max() < pd.Timestamp("2013-01-14")


def test_postgres_types_come_back_as_sqlalchemy_returns_them(create_database: CreateDatabase,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """int4/int2, numeric, real, timestamptz, boolean, date and text read alike on both paths."""
    engine = get_engine(create_database("wh"))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE typed (id integer, small smallint, amount numeric(10, 2), ratio real, "
            "at timestamptz, seen timestamp, ok boolean, day date, note text)")
        conn.exec_driver_sql(
            "INSERT INTO typed VALUES (1, 2, 12.34, 0.5, '2013-01-08 10:00+02', '2013-01-08 10:00:00.123456', "
            "true, '2013-01-08', 'a'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
    query = sa.select(sa.text("*")).select_from(sa.table("typed")).order_by(sa.column("id"))
    fast, plain = both_paths(engine, query, monkeypatch)
    pd.testing.assert_frame_equal(fast, plain, check_exact=True)
    assert fast.loc[0, "at"] == pd.Timestamp("2013-01-08 08:00", tz="UTC")


def test_an_empty_window_reads_as_empty_frames_with_the_columns(warehouse: sa.Engine, config: ModelConfig,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A window without rows gives 0 rows, every requested column and UTC timestamps, on both paths."""
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", warehouse.url.render_as_string(hide_password=False))
    empty = (datetime(2014, 1, 6, tzinfo=UTC), datetime(2014, 1, 13, tzinfo=UTC))
    fast = read_range(config, config.monitored_columns, *empty)
    monkeypatch.setattr(readers, "_connectorx", lambda: None)
    plain = read_range(config, config.monitored_columns, *empty)
    for frame in (fast, plain):
        assert len(frame) == 0
        assert list(frame.columns) == config.monitored_columns
        assert str(frame["scheduled_at"].dtype) == "datetime64[ns, UTC]"


def test_a_configured_sql_source_is_read_through_connectorx(warehouse: sa.Engine, config: ModelConfig,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`source.sql` works on PostgreSQL; a '%' in it (LIKE) reaches the server unescaped."""
    refuse_fallback(monkeypatch)
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", warehouse.url.render_as_string(hide_password=False))
    sql = "SELECT * FROM flight_predictions WHERE origin <> 'EWR' AND carrier LIKE 'U%'"
    by_sql = config.model_copy(update={"source": SourceConfig(sql=sql, timestamp="scheduled_at", id="flight_id")})
    frame = read_range(by_sql, by_sql.monitored_columns, START, START + timedelta(days=7))
    assert len(frame) > 0
    assert set(frame["carrier"]) == {"UA", "US"}
    assert "EWR" not in set(frame["origin"])
    assert str(frame["scheduled_at"].dtype) == "datetime64[ns, UTC]"


def test_a_table_name_that_needs_quoting_is_quoted(warehouse: sa.Engine, config: ModelConfig,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A reserved, mixed-case table name (`Order`) is quoted by SQLAlchemy on the ConnectorX path too."""
    with warehouse.begin() as conn:
        conn.exec_driver_sql('CREATE TABLE "Order" AS SELECT * FROM flight_predictions')
    ordered = config.model_copy(update={"source": SourceConfig(table="Order", timestamp="scheduled_at",
                                                               id="flight_id")})
    query = window_query(ordered, ordered.monitored_columns, START, START + timedelta(days=7))
    fast, plain = both_paths(warehouse, query, monkeypatch)
    pd.testing.assert_frame_equal(fast, plain, check_exact=True)
    assert len(fast) > 1000


def test_values_that_could_carry_sql_are_never_inlined(warehouse: sa.Engine) -> None:
    """Only datetimes and integers are inlined for ConnectorX; a string value is refused for inlining and
    the query is read through SQLAlchemy with a bound parameter, so an injection attempt matches nothing."""
    attempt = "UA'; DROP TABLE flight_predictions; --"
    query = (sa.select(sa.column("flight_id")).select_from(sa.table("flight_predictions"))
             .where(sa.column("carrier") == attempt))
    with pytest.raises(UnsafeLiteral, match="str"):
        inline_sql(query)
    assert len(read_frame(warehouse, query)) == 0
    assert sa.inspect(warehouse).has_table("flight_predictions")


def test_a_column_type_connectorx_cannot_read_is_read_through_sqlalchemy(
        create_database: CreateDatabase, caplog: pytest.LogCaptureFixture) -> None:
    """An `interval` column (ConnectorX does not support it) still reads, through SQLAlchemy, with a warning."""
    engine = get_engine(create_database("wh"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE waits (id bigint, wait interval)")
        conn.exec_driver_sql("INSERT INTO waits VALUES (1, '90 minutes')")
    query = sa.select(sa.column("id"), sa.column("wait")).select_from(sa.table("waits"))
    with caplog.at_level("WARNING", logger="tasks.source.readers"):
        frame = read_frame(engine, query)
    assert frame.loc[0, "wait"] == pd.Timedelta(minutes=90)
    assert "reading it through SQLAlchemy" in caplog.text
