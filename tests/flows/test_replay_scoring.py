"""A replayed window is scored by the champion of its time, not read from the log, and a rerun of it scores
with the same version: under the real Prefect test server, store and warehouse.

The log here holds useless (random) predictions, so a window measured from the log and one scored by the
registered champion differ plainly in their performance.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from flows.monitor import monitor
from flows.replay import replay_history
from tasks import artifacts
from tasks.artifact_keys import stored_key
from tasks.config import ModelConfig
from tasks.errors import StateConflict
from tasks.metrics import score
from tasks.registry.register import register_model
from tasks.registry.versions import champion, load_estimator
from tasks.retrain.trainers import predict
from tasks.schedule import resolve_window
from tasks.source.query import read_range
from tasks.store.engine import open_store
from tasks.store.windows import window_runs
from tests.factories import flights_batch
from tests.flows.conftest import REFERENCE_START, log_week, week, window_end, write_predictions


def random_predictions(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    logged = frame.copy()
    logged["delay_proba"] = np.random.default_rng(seed).random(len(logged))
    return logged


def record_of(config: ModelConfig, n: int) -> dict[str, Any]:
    end = window_end(n)
    [run] = window_runs(open_store(), config.name, start=end - timedelta(seconds=1), end=end)
    return run


def matured_rows(config: ModelConfig, n: int) -> pd.DataFrame:
    window = resolve_window(config, window_end(n))
    cols = config.columns
    return read_range(config, [config.source.id, *cols.features, cols.prediction, cols.target.column],
                      window.labelled_start, window.labelled_end, labelled_only=True)


def champion_metric(config: ModelConfig, n: int) -> float:
    """The champion's metric on the window's matured rows, computed here from its model file."""
    rows, row = matured_rows(config, n), champion(open_store(), config.name)
    assert row is not None
    return score(config.performance.metric, rows[config.columns.target.column],
                 predict(load_estimator(row), rows, config))


def metrics_from_log(config: ModelConfig, n: int) -> float:
    """The logged predictions' metric on the window's matured rows."""
    rows = matured_rows(config, n)
    return score(config.performance.metric, rows[config.columns.target.column],
                 rows[config.columns.prediction].to_numpy(dtype=float))


def test_a_replayed_window_is_scored_by_the_champion_and_a_rerun_reproduces_it(monitored: ModelConfig) -> None:
    config = monitored
    for n in (1, 2):
        write_predictions(random_predictions(week(n, seed=40 + n), seed=n))
    monitor(model=config.name, window_end=window_end(1), actions=False, replay=True)
    monitor(model=config.name, window_end=window_end(2), actions=False)  # a plain run reads the log

    replayed, plain = record_of(config, 1), record_of(config, 2)
    assert replayed["scored_by"] == 1 and plain["scored_by"] is None
    assert replayed["model_versions"] == {"1": replayed["row_count"]}
    assert any("predictions made by v1, the champion at this window" in r for r in replayed["reasons"])
    by_champion = champion_metric(config, 1)
    assert abs(replayed["performance"]["value"] - by_champion) < 1e-9
    assert abs(by_champion - metrics_from_log(config, 1)) > 0.02
    assert abs(plain["performance"]["value"] - metrics_from_log(config, 2)) < 1e-9

    monitor(model=config.name, window_end=window_end(1), actions=False)  # a rerun, without the replay flag
    rerun = record_of(config, 1)
    for field in ("status", "reasons", "reference_version", "scored_by", "revision", "drifted_columns"):
        assert rerun[field] == replayed[field], field
    assert rerun["performance"]["value"] == replayed["performance"]["value"]


def test_a_champion_known_by_its_log_only_is_measured_from_the_log(driftflow_home: Path,
                                                                   config: ModelConfig) -> None:
    """`register --logged`: the log holds the champion's own predictions; nothing to say about them."""
    frames = [flights_batch(1500, seed=300 + i, start=REFERENCE_START + timedelta(days=7 * i)) for i in range(4)]
    write_predictions(pd.concat([*frames, week(1, seed=311)], ignore_index=True), replace=True)
    register_model(open_store(), config, reference_start=REFERENCE_START,
                   reference_end=REFERENCE_START + timedelta(days=28), logged=True)
    summary = dict(monitor(model=config.name, window_end=window_end(1), actions=False, replay=True))
    record = record_of(config, 1)
    assert record["scored_by"] is None and summary["verdict"] in ("ok", "warn")
    assert not [r for r in record["reasons"] if "replay:" in r]


def test_a_champion_whose_file_is_gone_is_measured_from_the_log_and_the_reasons_say_why(
        monitored: ModelConfig) -> None:
    config = monitored
    write_predictions(random_predictions(week(1, seed=41), seed=1))
    row = champion(open_store(), config.name)
    assert row is not None and artifacts.delete(stored_key(row["artifact_path"]))
    monitor(model=config.name, window_end=window_end(1), actions=False, replay=True)
    record = record_of(config, 1)
    assert record["scored_by"] is None
    [note] = [r for r in record["reasons"] if "replay:" in r]
    assert "v1 could not score the window" in note and "no such model file" in note
    assert "the logged predictions are measured" in note
    assert abs(record["performance"]["value"] - metrics_from_log(config, 1)) < 1e-9


def test_a_replay_over_recorded_windows_is_refused_and_changes_nothing(monitored: ModelConfig) -> None:
    """Recorded windows were decided by the champions of their time: a replay from today's registry would
    rewrite them with other models, so it stops before monitoring anything."""
    config = monitored
    for n in (1, 2):
        log_week(config, week(n, seed=40 + n))
    monitor(model=config.name, window_end=window_end(1), actions=False)
    before = record_of(config, 1)
    with pytest.raises(StateConflict, match=r"1 of the 2 windows to replay are already recorded \(2013-"):
        replay_history(config.name, [window_end(1), window_end(2)])
    assert [r["window_end"] for r in window_runs(open_store(), config.name)] == [window_end(1)]
    after = record_of(config, 1)
    assert (after["revision"], after["recorded_at"]) == (before["revision"], before["recorded_at"])
