"""The flights-delay suite run for real by Great Expectations on small synthetic windows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tasks.config import ModelConfig, ValidationConfig, load_model_config
from tasks.monitor.suites import SuiteError, check_suite, load_suite, suite_path
from tasks.monitor.validate import validate_window
from tasks.results import ValidationSummary
from tests.factories import flights_batch, week_end

END = week_end()


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    return load_model_config("flights-delay")


@pytest.fixture
def batch() -> pd.DataFrame:
    return flights_batch(1000, seed=1)


def validate(config: ModelConfig, data: pd.DataFrame, end=END) -> ValidationSummary:
    return validate_window.fn(config, data, end).summary


def failures(summary: ValidationSummary) -> set[tuple[str, str | None, str]]:
    return {(o.expectation, o.column, o.severity) for o in summary.outcomes if not o.success}


def spoil(data: pd.DataFrame, column: str, share: float, value: Any) -> pd.DataFrame:
    """`data` with the first `share` of its rows set to `value` in `column`."""
    spoiled = data.copy()
    spoiled.loc[: int(len(data) * share) - 1, column] = value
    return spoiled


def test_a_normal_week_passes_every_expectation_in_the_suite(config, batch):
    """A week that looks like production passes: one outcome per expectation in the file, none failed."""
    summary = validate(config, batch)
    expected = len(json.loads(suite_path("flights-delay").read_text())["expectations"])
    assert summary.success and summary.error is None
    assert len(summary.outcomes) == expected
    assert failures(summary) == set()
    assert {o.severity for o in summary.outcomes} == {"critical", "warning"}


def test_temperatures_out_of_physical_range_fail_the_window(config, batch):
    """More than 1% of temperatures outside -20..120 F is a critical failure; observed shows how many."""
    summary = validate(config, spoil(batch, "temp", 0.05, 150.0))
    assert failures(summary) == {("expect_column_values_to_be_between", "temp", "critical")}
    [outcome] = summary.critical_failures
    assert outcome.unexpected_count == 50
    assert outcome.observed == "50 of 1000 unexpected, e.g. 150.0"


def test_a_few_unknown_carriers_warn_and_more_than_one_percent_fail(config, batch):
    """Unknown carriers in under 1% of rows only warn; beyond 1% the window fails."""
    few = validate(config, spoil(batch, "carrier", 0.005, "ZZ"))
    assert few.success
    assert failures(few) == {("expect_column_values_to_be_in_set", "carrier", "warning")}

    many = validate(config, spoil(batch, "carrier", 0.03, "ZZ"))
    assert not many.success
    assert failures(many) == {("expect_column_values_to_be_in_set", "carrier", "critical"),
                              ("expect_column_values_to_be_in_set", "carrier", "warning")}


def test_a_missing_prediction_fails_the_window(config, batch):
    """Every scored flight has a prediction: a single null delay_proba is a critical failure."""
    summary = validate(config, spoil(batch, "delay_proba", 0.002, np.nan))
    assert failures(summary) == {("expect_column_values_to_not_be_null", "delay_proba", "critical")}
    assert summary.critical_failures[0].unexpected_count == 2
    assert summary.critical_failures[0].observed == "2 of 1000 unexpected"


def test_missing_labels_are_allowed(config, batch):
    """Cancelled or not yet matured flights have no label: nulls in arrived_late are fine."""
    assert validate(config, spoil(batch, "arrived_late", 0.5, np.nan)).success


@pytest.mark.parametrize(("share", "expected"), [
    (0.02, set()),
    (0.05, {("expect_column_values_to_not_be_null", "humid", "warning")}),
    (0.15, {("expect_column_values_to_not_be_null", "humid", "warning"),
            ("expect_column_values_to_not_be_null", "humid", "critical")}),
])
def test_weather_gaps_are_tolerated_up_to_a_few_percent(config, batch, share, expected):
    """Weather joined by hour is missing for up to ~3% of rows normally; beyond that warn, beyond 10% fail."""
    assert failures(validate(config, spoil(batch, "humid", share, np.nan))) == expected


def test_duplicate_flight_ids_fail_the_window(config, batch):
    """One row per scored flight: repeated flight ids (a bad join or a replay) are a critical failure."""
    summary = validate(config, pd.concat([batch, batch.iloc[:10]], ignore_index=True))
    assert failures(summary) == {("expect_column_values_to_be_unique", "flight_id", "critical")}
    assert summary.critical_failures[0].unexpected_count == 20  # both copies of each repeated id


def test_a_window_whose_newest_row_is_more_than_a_day_old_is_stale(config, batch):
    """Freshness: the newest scheduled_at must be within a day of the window end."""
    summary = validate(config, batch, END + timedelta(days=2))
    assert failures(summary) == {("expect_column_max_to_be_between", "scheduled_at", "critical")}
    assert summary.critical_failures[0].observed == str(batch["scheduled_at"].max())


def test_rows_at_or_after_the_window_end_fail_freshness(config, batch):
    """The window is [start, end): a row scheduled at the end itself means the extract is wrong."""
    late = spoil(batch, "scheduled_at", 0.001, pd.Timestamp(END))
    summary = validate(config, late)
    assert failures(summary) == {("expect_column_max_to_be_between", "scheduled_at", "critical")}


def test_freshness_works_with_naive_timestamps_on_either_side(config, batch):
    """A naive window end counts as UTC, and a naive UTC column (as SQLite returns it) compares correctly."""
    naive_column = batch.assign(scheduled_at=batch["scheduled_at"].dt.tz_localize(None))
    assert validate(config, batch, END.replace(tzinfo=None)).success
    assert validate(config, naive_column, END).success
    assert not validate(config, naive_column, END + timedelta(days=2)).success


def test_an_empty_window_gives_a_failed_row_count_not_an_exception(config, batch):
    """No rows at all: the summary fails on the row count (and freshness) instead of raising."""
    summary = validate(config, batch.iloc[0:0])
    assert not summary.success and summary.error is None
    assert ("expect_table_row_count_to_be_between", None, "critical") in failures(summary)
    assert ("expect_column_max_to_be_between", "scheduled_at", "critical") in failures(summary)


def test_a_missing_column_is_a_critical_failure_naming_it(config, batch):
    """A monitored column that is not in the window fails `expect_column_to_exist` for that column, and
    the column's other expectations fail with GX's message as the observed value."""
    summary = validate(config, batch.drop(columns=["visib"]))
    assert ("expect_column_to_exist", "visib", "critical") in failures(summary)
    assert {o.column for o in summary.critical_failures} == {"visib"}
    range_check = next(o for o in summary.outcomes if o.expectation == "expect_column_values_to_be_between"
                       and o.column == "visib")
    assert not range_check.success
    assert range_check.observed is not None and '"visib"' in range_check.observed


def test_an_expectation_gx_cannot_evaluate_is_recorded_as_failed_with_its_message(config, batch):
    """When GX raises while evaluating an expectation (text in a numeric column), that one fails and
    the exception message is its observed value."""
    summary = validate(config, batch.assign(distance=batch["distance"].astype(str)))
    [outcome] = [o for o in summary.critical_failures
                 if o.expectation == "expect_column_values_to_be_between" and o.column == "distance"]
    assert outcome.observed and outcome.unexpected_count is None


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project folder that expectations_dir() points into."""
    (tmp_path / "expectations").mkdir()
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(tmp_path))
    return tmp_path / "expectations"


def write_suite(folder: Path, name: str, expectations: list[dict]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"name": name, "expectations": expectations, "meta": {}}))
    return path


GOOD = {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}, "severity": "critical"}


def test_the_shipped_suite_has_no_problems():
    """`driftflow check` finds nothing wrong with expectations/flights-delay.json."""
    assert check_suite("flights-delay") == []
    assert load_suite("flights-delay").name == "flights-delay"


@pytest.mark.parametrize(("expectation", "reason"), [
    ({"type": "expect_column_values_to_be_betwen", "kwargs": {"column": "temp"}}, "not found"),
    ({**GOOD, "severity": "fatal"}, "Invalid severity 'fatal'"),
    ({"type": "expect_column_values_to_be_between", "kwargs": {"column": "temp", "mostly": 2}}, "mostly"),
])
def test_the_loader_rejects_a_suite_gx_would_silently_shrink(project, expectation, reason):
    """GX drops unknown types and bad severities without an error: the loader refuses the whole suite,
    naming the file, the expectation and the reason; check_suite lists the same problems."""
    path = write_suite(project, "broken", [GOOD, expectation])
    with pytest.raises(SuiteError) as raised:
        load_suite("broken")
    message = str(raised.value)
    assert str(path) in message and "expectations[1]" in message and reason in message
    problems = check_suite("broken")
    assert problems and all(str(path) in p for p in problems)


def test_a_missing_or_unparsable_suite_is_reported_with_its_path(project):
    """A suite file that does not exist or is not JSON gives one problem naming the file."""
    assert check_suite("absent") == [f"{project / 'absent.json'}: no such expectation suite"]
    (project / "garbled.json").write_text("{not json")
    [problem] = check_suite("garbled")
    assert problem.startswith(f"{project / 'garbled.json'}: not valid JSON")
    with pytest.raises(SuiteError, match=r"garbled\.json"):
        load_suite("garbled")


def test_a_window_validated_against_a_broken_suite_fails_with_the_reason(config, project, batch):
    """The monitor never runs a partial suite: the summary carries the suite error and is not a success."""
    write_suite(project, "broken", [GOOD, {"type": "expect_nothing", "kwargs": {}}])
    broken = config.model_copy(update={"validation": ValidationConfig(suite="broken")})
    summary = validate(broken, batch)
    assert not summary.success and summary.outcomes == []
    assert summary.error is not None and "expect_nothing" in summary.error


QUARANTINE = {"driftflow": {"action": "quarantine"}}


def quarantine_suite(project: Path) -> None:
    write_suite(project, "quarantined", [
        GOOD,
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "flight_id"}, "meta": QUARANTINE},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "temp", "min_value": -60,
                                                                   "max_value": 130}, "meta": QUARANTINE},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "delay_proba"}},
    ])


def test_quarantine_leaves_out_duplicates_and_impossible_values_and_measures_the_rest(config, project, batch):
    """Repeated ids keep their first copy, impossible temperatures are dropped; the window is not blocked,
    the count is in the summary, and the kept rows are what the monitor measures."""
    quarantine_suite(project)
    spoiled = pd.concat([batch, batch.iloc[:30]], ignore_index=True)
    spoiled.loc[5, "temp"] = 999.0
    cfg = config.model_copy(update={"validation": ValidationConfig(suite="quarantined")})
    validated = validate_window.fn(cfg, spoiled, END)
    summary = validated.summary
    assert summary.success and summary.quarantined_rows == 31
    assert len(validated.kept) == len(batch) - 1 and validated.kept["flight_id"].is_unique
    assert 999.0 not in set(validated.kept["temp"])
    assert {(o.expectation, o.unexpected_count) for o in summary.quarantines} == {
        ("expect_column_values_to_be_unique", 60), ("expect_column_values_to_be_between", 1)}
    assert [o.position for o in summary.outcomes] == [0, 1, 2, 3]


def test_quarantining_more_than_the_allowed_share_blocks_the_window(config, project, batch):
    """A window that is mostly duplicates is broken, not noisy: beyond validation.max_quarantined it blocks."""
    quarantine_suite(project)
    doubled = pd.concat([batch, batch], ignore_index=True)
    cfg = config.model_copy(update={"validation": ValidationConfig(suite="quarantined", max_quarantined=0.2)})
    validated = validate_window.fn(cfg, doubled, END)
    assert not validated.summary.success and len(validated.kept) == len(doubled)
    [blocking] = validated.summary.blocking_failures
    assert blocking.expectation == "expect_column_values_to_be_unique"
    assert "too many rows to quarantine" in (blocking.observed or "")


def test_a_failure_shows_the_bounds_it_was_held_to(config, batch):
    """The freshness failure names the expected bounds (resolved suite parameters), not only what it saw."""
    summary = validate(config, batch, END + timedelta(days=2))
    [stale] = summary.blocking_failures
    assert stale.expected is not None
    assert "(freshness_min)" in stale.expected and "(window_end)" in stale.expected
    assert str((END + timedelta(days=1)).date()) in stale.expected


@pytest.mark.parametrize(("expectation", "reason"), [
    ({**GOOD, "meta": {"driftflow": {"action": "ignore"}}}, "is not one of block, quarantine, warn"),
    ({**GOOD, "meta": QUARANTINE}, "needs a row-level expectation"),
])
def test_an_unusable_action_is_a_suite_problem(project, expectation, reason):
    """An unknown action, or quarantine on an expectation about the whole table, is refused by name."""
    write_suite(project, "odd", [expectation])
    [problem] = check_suite("odd")
    assert "expectations[0]" in problem and reason in problem
