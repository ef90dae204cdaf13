"""References that move with the window (`lag`, `rolling`): read from the log for each window, profiled and
calibrated there, their baseline the logged predictions' score; the champion's where the period is empty.

Real SQLite warehouse and store; the loader runs as `.fn` (no Prefect server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tasks.config import ModelConfig
from tasks.metrics import score
from tasks.registry.moving_references import moving_bounds
from tasks.registry.references import load_reference
from tasks.store.engine import open_store
from tests.factories import flights_batch
from tests.support import copy_project, seed_monitored, write_predictions

MONDAY = datetime(2013, 3, 4, 6, tzinfo=UTC)


@pytest.fixture()
def log(driftflow_home: Path) -> pd.DataFrame:
    """Six weeks of logged, labelled predictions before MONDAY (the 4-week seeded reference lies before them)."""
    frame = pd.concat([flights_batch(800, seed=70 + i, start=MONDAY - timedelta(days=7 * (6 - i)))
                       for i in range(6)], ignore_index=True)
    frame["delay_proba"] = frame["delay_proba"].clip(0, 1)
    return frame


def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: dict[str, str]) -> ModelConfig:
    config = copy_project(tmp_path, monkeypatch, reference=reference)
    return seed_monitored(config)  # a champion v1 with its own stored reference, for the fallback


def in_range(frame: pd.DataFrame, start: datetime, end: datetime) -> pd.DataFrame:
    return frame[(frame["scheduled_at"] >= start) & (frame["scheduled_at"] < end)]


def test_a_rolling_reference_is_the_log_just_before_the_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               log: pd.DataFrame) -> None:
    config = configured(tmp_path, monkeypatch, {"from": "rolling", "length": "21d"})
    write_predictions(log)
    start, end = moving_bounds(config, MONDAY)
    assert (start, end) == (MONDAY - timedelta(days=28), MONDAY - timedelta(days=7))
    reference = load_reference.fn(open_store(), config, at=MONDAY)
    rows = in_range(log, start, end)
    assert reference.version == f"rolling-{start:%Y%m%dT%H%M}" and len(reference.data) == len(rows) == 2400
    assert reference.performance == pytest.approx(score("roc_auc", rows["arrived_late"], rows["delay_proba"]))
    assert reference.profile is not None and reference.profile.rows == 2400
    assert reference.calibration is not None and len(reference.calibration["chunks"]) == 3  # three weekly chunks
    assert len(reference.calibration["performance"]) == 3


def test_a_lag_reference_is_the_same_window_one_lag_earlier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            log: pd.DataFrame) -> None:
    config = configured(tmp_path, monkeypatch, {"from": "lag", "lag": "14d"})
    write_predictions(log)
    start, end = moving_bounds(config, MONDAY)
    assert (start, end) == (MONDAY - timedelta(days=21), MONDAY - timedelta(days=14))
    reference = load_reference.fn(open_store(), config, at=MONDAY)
    assert reference.version == f"lag-{start:%Y%m%dT%H%M}" and len(reference.data) == 800


def test_an_empty_period_falls_back_to_the_champion_s_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                log: pd.DataFrame) -> None:
    """A year's lag before the log began: the window is measured against v1, the champion's reference."""
    config = configured(tmp_path, monkeypatch, {"from": "lag", "lag": "1y"})
    write_predictions(log)
    assert load_reference.fn(open_store(), config, at=MONDAY).version == "v1"
