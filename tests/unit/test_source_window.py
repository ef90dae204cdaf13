"""One pass over the union of the current and labelled ranges gives the frames two exact reads give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tasks.config import ModelConfig, load_model_config
from tasks.db import get_engine
from tasks.results import Window
from tasks.source import query
from tasks.source.query import read_range
from tasks.source.window import compact_dtypes, labelled_columns, read_window
from tests.factories import flights_batch

START = datetime(2013, 1, 14, 6, tzinfo=UTC)


@pytest.fixture()
def config() -> ModelConfig:
    return load_model_config("flights-delay")


@pytest.fixture()
def url(tmp_path: Path) -> str:
    """Three weeks of scored flights as TEXT timestamps with a 'T' (some labels missing)."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    rows = flights_batch(4000, seed=5, start=START - timedelta(days=14), days=21)
    rows["scheduled_at"] = rows["scheduled_at"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    rows.loc[rows.index[::7], "arrived_late"] = None
    with get_engine(url).begin() as conn:
        rows.to_sql("flight_predictions", conn, index=False)
    return url


@pytest.mark.parametrize("delay", [timedelta(0), timedelta(days=2), timedelta(days=7), timedelta(days=9)])
def test_one_pass_equals_two_reads(config: ModelConfig, url: str, delay: timedelta,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Same rows, columns, dtypes and order; overlapping ranges cost one query, disjoint ones two."""
    end = START + timedelta(days=7)
    window = Window(start=START, end=end, labelled_start=START - delay, labelled_end=end - delay)
    current = read_range(config, config.monitored_columns, START, end, url)
    labelled = read_range(config, labelled_columns(config), START - delay, end - delay, url, labelled_only=True)
    calls: list[object] = []
    original = query.read_frame
    monkeypatch.setattr(query, "read_frame", lambda *a: calls.append(a) or original(*a))
    one_current, one_labelled = read_window(config, window, url)
    pd.testing.assert_frame_equal(one_current, current, check_exact=True)
    pd.testing.assert_frame_equal(one_labelled, labelled, check_exact=True)
    assert len(calls) == (1 if delay < timedelta(days=7) else 2)
    assert len(one_current) > 1000 and one_labelled["arrived_late"].notna().all()


def test_compact_dtypes_make_categoricals_and_keep_nulls_missing(config: ModelConfig, url: str) -> None:
    end = START + timedelta(days=7)
    window = Window(start=START, end=end, labelled_start=START, labelled_end=end)
    plain, _ = read_window(config, window, url)
    plain.loc[0, "carrier"] = None
    compact = compact_dtypes(plain, config)
    assert {str(compact[c].dtype) for c in config.columns.categorical} == {"category"}
    assert pd.isna(compact.loc[0, "carrier"]) and None not in compact["carrier"].cat.categories
    assert compact.memory_usage(deep=True).sum() < plain.memory_usage(deep=True).sum()
    for column in config.columns.categorical:
        back = compact[column].astype(object)
        assert list(back.where(back.notna(), None)) == list(plain[column])
