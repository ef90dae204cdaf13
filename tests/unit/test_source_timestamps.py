"""Exact [start, end) windows for every timestamp storage a warehouse without a server offers (SQLite, DuckDB);
a read never changes the warehouse; read errors say whether the query or the warehouse is at fault."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa

from tasks.config import ModelConfig, SourceConfig, load_model_config
from tasks.db import get_engine
from tasks.errors import DataError, MissingColumnsError, SourceError, WarehouseUnavailable
from tasks.source.query import read_range, window_query
from tasks.source.readers import inline_sql

START = datetime(2024, 1, 8, tzinfo=UTC)
END = START + timedelta(days=7)
NEW_YORK = ZoneInfo("America/New_York")


def log_config(timezone: str = "UTC", **source: str) -> ModelConfig:
    """The demo model's configuration pointed at a small table `log(id, seen_at, y)`."""
    base = load_model_config("flights-delay")
    fields = {"table": "log", "timestamp": "seen_at", "id": "id", "timezone": timezone, **source}
    if "sql" in source:
        fields.pop("table")
    return base.model_copy(update={"source": SourceConfig(**fields)})


def daily_moments(zone: ZoneInfo | None = None) -> list[datetime]:
    """Seven daily rows inside the window (the first at exactly its start), one just before, one at its end."""
    zone = zone or UTC
    start = START.replace(tzinfo=zone) if zone is not UTC else START
    days = [start + timedelta(days=d) for d in range(8)]  # the 8th lies exactly at the window's end: out
    return [start - timedelta(microseconds=1000), *days]


def write_text(path: Path, values: list[str], declared: str = "TEXT", journal: str = "delete") -> str:
    """A SQLite warehouse whose `log.at` holds `values` as written, with an index on `at`."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.execute(f"CREATE TABLE log (id INTEGER PRIMARY KEY, seen_at {declared}, y INTEGER)")
    conn.execute("CREATE INDEX log_at ON log (seen_at)")
    conn.executemany("INSERT INTO log (id, seen_at, y) VALUES (?, ?, ?)", [(i, v, i % 2) for i, v in enumerate(values)])
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def ids(frame: pd.DataFrame) -> list[int]:
    return [int(i) for i in frame["id"]]


FORMATS: dict[str, Callable[[datetime], str]] = {
    "space": lambda m: m.strftime("%Y-%m-%d %H:%M:%S"),
    "T": lambda m: m.strftime("%Y-%m-%dT%H:%M:%S"),
    "T minutes": lambda m: m.strftime("%Y-%m-%dT%H:%M"),
    "space micro": lambda m: m.strftime("%Y-%m-%d %H:%M:%S.%f"),
    "T milli": lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}",
    "Z": lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    "+02:00": lambda m: m.astimezone(ZoneInfo("Europe/Helsinki")).replace(tzinfo=None).isoformat() + "+02:00",
    "-05:00": lambda m: m.astimezone(NEW_YORK).isoformat(sep=" "),
}


@pytest.mark.parametrize("declared", ["TEXT", "DATETIME"])
@pytest.mark.parametrize("name", list(FORMATS))
def test_a_sqlite_text_window_holds_exactly_its_rows(tmp_path: Path, name: str, declared: str) -> None:
    """Seven daily rows: the one at exactly start is in, the one at exactly end and the one before are out."""
    values = [FORMATS[name](m) for m in daily_moments()]
    url = write_text(tmp_path / "w.db", values, declared)
    frame = read_range(log_config(), ["id", "seen_at", "y"], START, END, url)
    assert ids(frame) == [1, 2, 3, 4, 5, 6, 7]
    assert frame["seen_at"].iloc[0] == pd.Timestamp(START)
    assert str(frame["seen_at"].dtype) == "datetime64[ns, UTC]"


def test_date_only_text_gives_whole_days(tmp_path: Path) -> None:
    """`'2024-01-08'` is midnight: a week's window holds the seven dates from its first day, not the eighth."""
    values = [(START + timedelta(days=d)).date().isoformat() for d in range(-1, 8)]
    url = write_text(tmp_path / "w.db", values)
    assert ids(read_range(log_config(), ["id", "seen_at"], START, END, url)) == [1, 2, 3, 4, 5, 6, 7]


def test_mixed_text_formats_in_one_column_are_cut_and_ordered_by_instant(tmp_path: Path) -> None:
    """Text sorts 'T' after ' ': rows still come back in time order, the window still exact."""
    moments = daily_moments()
    values = [list(FORMATS.values())[i % len(FORMATS)](m) for i, m in enumerate(moments)]
    url = write_text(tmp_path / "w.db", values)
    frame = read_range(log_config(), ["id", "seen_at"], START, END, url)
    assert ids(frame) == [1, 2, 3, 4, 5, 6, 7]
    assert frame["seen_at"].is_monotonic_increasing


def test_sqlalchemy_datetime_columns_on_sqlite(tmp_path: Path) -> None:
    """SQLite's "native" timestamps (SQLAlchemy DateTime, as pandas' to_sql writes them) cut exactly."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    frame = pd.DataFrame({"id": range(9), "seen_at": [m.replace(tzinfo=None) for m in daily_moments()], "y": 1})
    with get_engine(url).begin() as conn:
        frame.to_sql("log", conn, index=False, dtype={"seen_at": sa.DateTime()})
        stored = conn.execute(sa.text("SELECT seen_at FROM log WHERE id = 1")).scalar()
    assert stored == "2024-01-08 00:00:00.000000"
    assert ids(read_range(log_config(), ["id", "seen_at"], START, END, url)) == [1, 2, 3, 4, 5, 6, 7]


def test_naive_text_is_read_in_the_source_timezone(tmp_path: Path) -> None:
    """`source.timezone: America/New_York`: naive local midnights fill the window of the local week."""
    moments = daily_moments(NEW_YORK)
    url = write_text(tmp_path / "w.db", [m.strftime("%Y-%m-%d %H:%M:%S.%f") for m in moments])
    start = START.replace(tzinfo=NEW_YORK)
    frame = read_range(log_config("America/New_York"), ["id", "seen_at"], start, start + timedelta(days=7), url)
    assert ids(frame) == [1, 2, 3, 4, 5, 6, 7]
    assert frame["seen_at"].iloc[0] == pd.Timestamp("2024-01-08 05:00", tz=UTC)


def test_naive_text_across_a_dst_change(tmp_path: Path) -> None:
    """Hourly naive rows over New York's autumn change: [start, end) in UTC holds exactly its hours."""
    start = datetime(2024, 11, 3, 4, tzinfo=UTC)  # 00:00 EDT
    moments = [start + timedelta(hours=h) for h in range(-2, 8)]
    url = write_text(tmp_path / "w.db", [m.astimezone(NEW_YORK).isoformat() for m in moments])
    frame = read_range(log_config("America/New_York"), ["id", "seen_at"], start, start + timedelta(hours=6), url)
    assert ids(frame) == [2, 3, 4, 5, 6, 7]


def test_text_that_is_not_a_timestamp_is_a_data_error(tmp_path: Path) -> None:
    """A value that does not parse names the file and field rather than silently leaving the window."""
    url = write_text(tmp_path / "w.db", ["2024-01-08 00:00:00", "2024-01-09 n/a"])
    with pytest.raises(DataError, match=r"flights-delay.yaml: source.table 'log': source.timestamp 'seen_at'.*n/a"):
        read_range(log_config(), ["id", "seen_at"], START, END, url)


def test_the_text_window_condition_uses_the_index(tmp_path: Path) -> None:
    """SQLite plans the window's day range on the index of the timestamp column, not a full scan."""
    url = write_text(tmp_path / "w.db", [FORMATS["T"](m) for m in daily_moments()])
    query = window_query(log_config(), ["id", "seen_at"], START, END, kind="text", dialect="sqlite")
    engine = get_engine(url)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "USING INDEX log_at" in plan or "USING COVERING INDEX log_at" in plan, plan


def test_text_bounds_may_be_inlined_for_connectorx() -> None:
    """The day bounds are ISO text: safe to inline; the instants bind with an explicit UTC offset for timestamptz."""
    text = inline_sql(window_query(log_config(), ["id"], START, END, kind="text"))
    assert "seen_at >= '2024-01-07' AND seen_at < '2024-01-17'" in text
    tz = inline_sql(window_query(log_config(), ["id"], START, END, kind="tz"))
    assert "seen_at >= '2024-01-08 00:00:00+00:00' AND seen_at < '2024-01-15 00:00:00+00:00'" in tz


@pytest.mark.parametrize("column", ["TIMESTAMP", "TIMESTAMPTZ", "VARCHAR", "DATE"])
def test_duckdb_storages(tmp_path: Path, column: str) -> None:
    """DuckDB native timestamps (with and without zone), dates and text: the same seven rows."""
    import duckdb

    path = tmp_path / "w.duckdb"
    moments = daily_moments() if column != "DATE" else [START + timedelta(days=d) for d in range(-1, 8)]
    values = {"TIMESTAMP": lambda m: m.strftime("%Y-%m-%d %H:%M:%S.%f"),
              "TIMESTAMPTZ": lambda m: m.astimezone(NEW_YORK).isoformat(),
              "VARCHAR": FORMATS["-05:00"], "DATE": lambda m: m.date().isoformat()}[column]
    with duckdb.connect(str(path)) as conn:
        conn.execute(f"CREATE TABLE log (id INTEGER, seen_at {column}, y INTEGER)")
        conn.executemany("INSERT INTO log VALUES (?, CAST(? AS " + column + "), 1)",
                         [(i, values(m)) for i, m in enumerate(moments)])
    frame = read_range(log_config(), ["id", "seen_at"], START, END, f"duckdb:///{path}")
    assert ids(frame) == [1, 2, 3, 4, 5, 6, 7]
    assert frame["seen_at"].iloc[0] == pd.Timestamp(START)


def test_a_read_leaves_the_sqlite_warehouse_unchanged(tmp_path: Path) -> None:
    """Journal mode, bytes and the folder's files are the same after reads: the file is opened read-only."""
    path = tmp_path / "w.db"
    url = write_text(path, [FORMATS["space"](m) for m in daily_moments()], journal="delete")
    before = hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in tmp_path.iterdir())
    for _ in range(2):
        assert len(read_range(log_config(), ["id", "seen_at", "y"], START, END, url)) == 7
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in tmp_path.iterdir())) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_mistyped_sqlite_path_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(SourceError, match=r"DRIFTFLOW_WAREHOUSE_URL.*does not exist"):
        read_range(log_config(), ["id"], START, END, f"sqlite:///{missing}")
    assert not missing.exists()


def test_a_missing_table_names_the_model_file_and_field(tmp_path: Path) -> None:
    url = write_text(tmp_path / "w.db", ["2024-01-08"])
    with pytest.raises(MissingColumnsError, match=r"flights-delay\.yaml: source\.table 'nope' does not exist"):
        read_range(log_config(table="nope"), ["id"], START, END, url)


def test_sql_that_fails_is_a_source_error_not_an_outage(tmp_path: Path) -> None:
    """A missing column inside `source.sql` is the query's fault: a SourceError naming the field, no retry."""
    url = write_text(tmp_path / "w.db", ["2024-01-08"])
    config = log_config(sql="SELECT id, seen_at, missing_column FROM log")
    with pytest.raises(SourceError, match=r"flights-delay\.yaml: source\.sql: the warehouse refused") as raised:
        read_range(config, ["id"], START, END, url)
    assert not isinstance(raised.value, WarehouseUnavailable)


def test_a_colon_in_a_string_literal_of_source_sql_is_text(tmp_path: Path) -> None:
    """`':b'` inside configured SQL is not a bind parameter."""
    url = write_text(tmp_path / "w.db", [FORMATS["space"](m) for m in daily_moments()])
    config = log_config(sql="SELECT id, seen_at, 'a:b' AS tag FROM log")
    assert list(read_range(config, ["id", "tag"], START, END, url)["tag"].unique()) == ["a:b"]


def test_a_refused_connection_is_an_outage() -> None:
    """Nothing listens on port 1: WarehouseUnavailable (retryable), naming the setting, password hidden."""
    url = "postgresql+psycopg://reader:secret@127.0.0.1:1/warehouse?connect_timeout=2"
    with pytest.raises(WarehouseUnavailable, match=r"outage.*DRIFTFLOW_WAREHOUSE_URL") as raised:
        read_range(log_config(), ["id"], START, END, url)
    assert "secret" not in str(raised.value)
