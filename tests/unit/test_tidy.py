"""The checks every window gets before its suite: numeric columns read as numbers, pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tasks.config import ModelConfig, load_model_config
from tasks.monitor.tidy import clean_numbers, tidy_window, unmeasurable
from tasks.results import Reference, ValidationSummary, Window, WindowData
from tests.factories import flights_batch

START = datetime(2013, 1, 14, tzinfo=UTC)
WINDOW = Window(start=START, end=START + timedelta(days=7),
                labelled_start=START - timedelta(days=2), labelled_end=START + timedelta(days=5))


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    return load_model_config("flights-delay")


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(version="v1", data=flights_batch(500, seed=0), performance=0.6)


def test_a_float_column_without_infinities_comes_back_untouched() -> None:
    values = pd.Series([1.0, np.nan, 3.5])
    cleaned = clean_numbers(values)
    assert cleaned.values is values and not cleaned.changed and (cleaned.text, cleaned.infinite) == (0, 0)


def test_numbers_stored_as_text_are_read_as_numbers_and_words_as_missing() -> None:
    cleaned = clean_numbers(pd.Series(["1.5", "n/a", None, "-2e3", "-"], dtype=object))
    assert cleaned.values.tolist()[:1] == [1.5] and cleaned.values.iloc[3] == -2000.0
    assert cleaned.values.isna().tolist() == [False, True, True, False, True]
    assert (cleaned.text, cleaned.example) == (2, "'n/a'")  # None was missing already: not counted


def test_infinities_are_read_as_missing_and_counted() -> None:
    cleaned = clean_numbers(pd.Series([np.inf, 1.0, -np.inf, np.nan]))
    assert cleaned.infinite == 2 and cleaned.values.isna().tolist() == [True, False, True, True]
    assert cleaned.example == "inf"


def test_a_window_with_text_and_infinities_gets_one_finding_per_column(config: ModelConfig,
                                                                     reference: Reference) -> None:
    current = flights_batch(200, seed=1).astype({"temp": object})
    current.loc[::20, "temp"] = "n/a"
    current.loc[::50, "delay_proba"] = np.inf
    labelled = current.copy()
    tidied, findings = tidy_window(config, WindowData(WINDOW, current, labelled), reference)
    assert {(f.expectation, f.column, f.action, f.unexpected_count) for f in findings} == {
        ("values are numbers", "temp", "warn", 10), ("values are finite", "delay_proba", "warn", 4)}
    assert sorted(f.position for f in findings) == [-2, -1]  # before the suite's own outcomes
    for frame in (tidied.current, tidied.labelled):
        assert frame["temp"].dtype == "float64" and frame["temp"].isna().sum() == 10
        assert np.isfinite(frame["delay_proba"].dropna()).all()
    assert current["temp"].dtype == object  # the frame read from the warehouse is not changed in place


def test_a_numeric_column_with_no_number_in_it_blocks_the_window(config: ModelConfig, reference: Reference) -> None:
    current = flights_batch(100, seed=1).assign(distance="far")
    _, findings = tidy_window(config, WindowData(WINDOW, current, current.iloc[:0]), reference)
    (finding,) = findings
    assert finding.action == "block" and "none of its 100 values is a number, e.g. 'far'" in (finding.observed or "")


def test_a_regression_target_in_words_blocks_the_window(config: ModelConfig) -> None:
    regression = config.model_copy(update={"task": "regression"})
    data = flights_batch(100, seed=1)
    reference = Reference(version="v1", data=data, performance=0.3)
    labelled = data.assign(arrived_late=np.where(data["arrived_late"] > 0, "late", "on time"))
    _, findings = tidy_window(regression, WindowData(WINDOW, data, labelled), reference)
    assert [(f.column, f.action) for f in findings] == [("arrived_late", "block")]


def test_a_problem_found_while_measuring_blocks_with_its_message() -> None:
    validation = ValidationSummary(suite="s", outcomes=[])
    blocked = unmeasurable(validation, "columns.target: found 0, 1, 2; use task: multiclass")
    assert not blocked.success
    assert blocked.blocking_failures[0].observed == "columns.target: found 0, 1, 2; use task: multiclass"
