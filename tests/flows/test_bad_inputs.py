"""Bad data in a window, met by a real monitor run: each case ends in a named verdict with a reason that names
the column, and exactly one record for the window; none raises.

Most cases run with a suite that checks nothing but the row count, so that the monitor's own reading and
scoring meet the bad values (a new user's first suite is rarely complete); the last few run with the shipped
suite. The full catalogue, with the CLI and configuration mistakes beside these, is in docs/bad-inputs.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from flows.monitor import monitor
from tasks.config import ModelConfig
from tasks.db import get_engine
from tasks.settings import store_url
from tasks.store.windows import count_window_rows
from tests.flows.conftest import log_week, week, window_end, write_predictions

Spoil = Callable[[pd.DataFrame], pd.DataFrame]


def every(step: int, column: str, value: Any, *, start: int = 0) -> Spoil:
    """Set `column` to `value` on every `step`-th row."""
    def spoil(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: object}) if isinstance(value, str) else frame
        frame.loc[frame.index[start::step], column] = value
        return frame
    return spoil


def both(*spoils: Spoil) -> Spoil:
    def spoil(frame: pd.DataFrame) -> pd.DataFrame:
        for one in spoils:
            frame = one(frame)
        return frame
    return spoil


def assign(**values: Any) -> Spoil:
    return lambda frame: frame.assign(**values)


def as_text(column: str, mapping: dict[float, str] | None = None) -> Spoil:
    return lambda frame: frame.assign(**{column: frame[column].map(mapping or repr)})


def duplicated(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, frame.iloc[:100]], ignore_index=True)


# case: (how the week is spoiled, the verdict, words one reason must hold)
ROW_COUNT_SUITE: dict[str, tuple[Spoil, str, list[str]]] = {
    "text in a numeric feature": (every(50, "temp", "n/a"), "warn",
                                  ["values are numbers on temp", "30 of 1,500 values are not numbers", "'n/a'"]),
    "a numeric feature all text": (assign(temp="n/a"), "data_invalid",
                                   ["values are numbers on temp", "none of its 1,500 values is a number"]),
    "±inf predictions": (both(every(40, "delay_proba", np.inf), every(40, "delay_proba", -np.inf, start=1)),
                         "warn", ["values are finite on delay_proba", "76 of 1,500 values are infinite"]),
    "inf in a feature": (every(40, "distance", np.inf), "warn", ["values are finite on distance"]),
    "a binary target with a third class": (every(10, "arrived_late", 2.0), "data_invalid",
                                           ["arrived_late", "found 0, 1, 2", "task: multiclass"]),
    "a text target without its positive label": (as_text("arrived_late", {0.0: "no", 1.0: "yes"}), "data_invalid",
                                                 ["arrived_late", "found no, yes", "columns.target.positive"]),
    "markup in a category": (every(30, "dest", "[/bold]"), "warn", ["dest", "[/bold]"]),
    "NUL bytes and symbols in a category": (every(30, "carrier", "é\x00☃"), "warn", ["carrier", "é\x00☃"]),
    "numbers where categories were": (assign(origin=np.arange(1500) % 3), "warn",
                                      ["origin", "values not in the reference: 0, 1, 2"]),
    "a feature all null": (assign(humid=np.nan), "warn", ["humid could not be measured", "all null"]),
    "values beyond float range": (every(30, "temp", 1e308), "warn", ["temp"]),
    "labels of one class only": (assign(arrived_late=0.0), "warn", ["roc_auc could not be computed"]),
    "no labels yet": (assign(arrived_late=np.nan), "warn", ["0 labelled rows"]),
    "a constant prediction": (assign(delay_proba=0.2), "warn", ["delay_proba", "constant in this window (0.2)"]),
    "too few rows": (lambda frame: frame.iloc[:40], "insufficient_data", ["40 rows", "at least 500"]),
    "no rows": (lambda frame: frame.iloc[:0], "insufficient_data", ["0 rows"]),
}

SHIPPED_SUITE: dict[str, tuple[Spoil, str, list[str]]] = {
    "duplicated rows": (duplicated, "data_invalid", ["expect_column_values_to_be_unique on flight_id"]),
    "text in a numeric feature, suite too": (every(50, "temp", "n/a"), "warn", ["values are numbers on temp"]),
    "±inf predictions, suite too": (every(40, "delay_proba", np.inf), "data_invalid",
                                    ["expect_column_values_to_not_be_null on delay_proba", "values are finite"]),
    "impossible values that warn under a blocking failure": (
        both(every(40, "delay_proba", 1.7), every(20, "carrier", "ZZ"), every(300, "carrier", "QQ", start=7)),
        "data_invalid", ["expect_column_values_to_be_between on delay_proba", "carrier"]),
}


def served(config: ModelConfig, spoil: Spoil) -> None:
    """Week 1 scored by the champion, then spoiled as it reaches the inference log."""
    from tasks.registry.versions import champion, load_estimator
    from tasks.retrain.trainers import predict
    from tasks.store.engine import upgrade_store

    frame = week(1, seed=1)
    row = champion(upgrade_store(store_url()), config.name)
    assert row is not None
    frame["delay_proba"] = predict(load_estimator(row), frame, config)
    write_predictions(spoil(frame))


def row_count_suite_only() -> None:
    suite = Path(os.environ["DRIFTFLOW_PROJECT_DIR"]) / "expectations" / "flights-delay.json"
    raw = json.loads(suite.read_text())
    raw["expectations"] = [e for e in raw["expectations"] if e["type"] == "expect_table_row_count_to_be_between"]
    suite.write_text(json.dumps(raw))


def measured() -> tuple[dict[str, Any], int]:
    summary = dict(monitor(model="flights-delay", window_end=window_end(1), actions=False))
    records = count_window_rows(get_engine(store_url()), "flights-delay", window_end(1))["monitor_runs"]
    return summary, records


def assert_named(summary: dict[str, Any], verdict: str, words: list[str]) -> None:
    assert summary["verdict"] == verdict, summary["reasons"]
    reasons = " | ".join(summary["reasons"])
    for word in words:
        assert word in reasons, f"{word!r} not in {reasons!r}"


@pytest.mark.parametrize("case", list(ROW_COUNT_SUITE))
def test_bad_data_the_suite_does_not_check_is_a_named_verdict(monitored: ModelConfig, case: str) -> None:
    spoil, verdict, words = ROW_COUNT_SUITE[case]
    row_count_suite_only()
    served(monitored, spoil)
    summary, records = measured()
    assert_named(summary, verdict, words)
    assert records == 1


@pytest.mark.parametrize("case", list(SHIPPED_SUITE))
def test_bad_data_the_suite_checks_is_a_named_verdict(monitored: ModelConfig, case: str) -> None:
    spoil, verdict, words = SHIPPED_SUITE[case]
    served(monitored, spoil)
    summary, records = measured()
    assert_named(summary, verdict, words)
    assert records == 1


def test_predictions_stored_as_text_are_scored_as_the_numbers_they_are(monitored: ModelConfig) -> None:
    """A log that stores probabilities as text gives the verdict, reasons and metric of the same week stored as
    numbers: not a false prediction-drift breach from scoring them as categories."""
    log_week(monitored, week(1, seed=1))
    as_numbers, _ = measured()
    with get_engine(os.environ["DRIFTFLOW_WAREHOUSE_URL"]).connect() as conn:
        log = pd.read_sql("SELECT * FROM flight_predictions", conn, parse_dates=["scheduled_at"])
    log["scheduled_at"] = log["scheduled_at"].dt.tz_localize("UTC")
    write_predictions(as_text("delay_proba")(log), replace=True)
    as_text_, records = measured()
    assert (as_text_["verdict"], as_text_["reasons"]) == (as_numbers["verdict"], as_numbers["reasons"])
    assert as_text_["performance"]["value"] == pytest.approx(as_numbers["performance"]["value"], abs=1e-6)
    assert records == 1


def test_timestamps_that_are_not_times_make_the_window_data_invalid(monitored: ModelConfig) -> None:
    """Text in the timestamp column that is no time at all: the rows cannot be cut into a window, so the window
    is `data_invalid` naming the column and the value, and recorded once (not a failed run)."""
    from tasks.settings import warehouse_url

    served(monitored, lambda frame: frame.iloc[:0])
    frame = week(1, seed=1)
    stamps = frame["scheduled_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
    stamps.iloc[::50] = "2013-02-13 n/a"
    with get_engine(warehouse_url()).begin() as conn:
        frame.assign(scheduled_at=stamps, delay_proba=0.3).to_sql("flight_predictions", conn, if_exists="append",
                                                                  index=False)
    summary, records = measured()
    assert_named(summary, "data_invalid", ["measurement failed", "source.timestamp 'scheduled_at'", "n/a"])
    assert records == 1
