"""The verdict policy, rule by rule, without Prefect or a database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from tasks.config import ModelConfig
from tasks.monitor.decide import decide_verdict
from tasks.results import (
    ColumnDrift,
    DriftSummary,
    ExpectationOutcome,
    PerformanceSummary,
    ValidationSummary,
    Verdict,
)

NUMERIC = ["distance", "dep_hour", "temp", "humid", "wind_speed", "precip", "visib"]
CATEGORICAL = ["carrier", "origin", "dest"]
FEATURES = [*NUMERIC, *CATEGORICAL]


# --- helpers that build the inputs -------------------------------------------------------------------------

def model_config(*, breaches: int = 2, of_last: int = 3, min_rows: int = 500, dataset_share: float = 0.3,
                 max_drop: float = 0.05, min_labelled_rows: int = 200, on_failure: str = "block",
                 task: str = "classification", metric: str = "roc_auc") -> ModelConfig:
    return ModelConfig.model_validate({
        "name": "flights-delay",
        "task": task,
        "source": {"table": "flight_predictions", "timestamp": "scheduled_at", "id": "flight_id"},
        "columns": {"numeric": NUMERIC, "categorical": CATEGORICAL, "prediction": "delay_proba",
                    "target": {"column": "arrived_late", "label_delay": "2d"}},
        "schedule": {"cron": "0 6 * * 1", "window": "7d"},
        "validation": {"suite": "flights-delay", "on_failure": on_failure},
        "drift": {"threshold": 0.1, "dataset_share": dataset_share},
        "performance": {"metric": metric, "max_drop": max_drop, "min_labelled_rows": min_labelled_rows},
        "policy": {"persistence": {"breaches": breaches, "of_last": of_last}, "min_rows": min_rows},
        "retraining": {"trainer": "tasks.retrain.trainers:gradient_boosting", "train_window": "60d"},
    })


def column(name: str, *, drifted: bool = False, score: float | None = None, kind: Any = "numeric",
           method: str = "wasserstein", threshold: float = 0.1, issue: str | None = None) -> ColumnDrift:
    if score is None and issue is None:
        score = 0.25 if drifted else 0.02
    return ColumnDrift(column=name, kind=kind, method=method, threshold=threshold, score=score,
                       drifted=drifted, issue=issue)


def performance(value: float | None = 0.71, reference: float | None = 0.72, labelled_rows: int = 1234,
                metric: str = "roc_auc", higher_is_better: bool = True) -> PerformanceSummary:
    return PerformanceSummary(metric=metric, value=value, reference_value=reference,
                              labelled_rows=labelled_rows, higher_is_better=higher_is_better)


def measured(*, drifted_features: int = 0, prediction_drifted: bool = False, target_drifted: bool = False,
             perf: PerformanceSummary | None = None, extra: Sequence[ColumnDrift] = ()) -> DriftSummary:
    """Ten features of which the first `drifted_features` drifted, then the prediction and the target."""
    features = [column(name, drifted=i < drifted_features) for i, name in enumerate(FEATURES)]
    features += list(extra)
    scored = [c for c in features if c.score is not None]
    share = sum(c.drifted for c in scored) / len(scored)
    return DriftSummary(
        columns=[*features, column("delay_proba", kind="prediction", drifted=prediction_drifted),
                 column("arrived_late", kind="target", method="jensenshannon", drifted=target_drifted)],
        drift_share=share,
        performance=perf or performance(),
    )


def failed(expectation: str, column: str | None = None, *, severity: Any = "critical",
           observed: str | None = None, unexpected_count: int | None = None) -> ExpectationOutcome:
    return ExpectationOutcome(expectation=expectation, column=column, severity=severity, success=False,
                              observed=observed, unexpected_count=unexpected_count)


def passed(expectation: str, column: str | None = None) -> ExpectationOutcome:
    return ExpectationOutcome(expectation=expectation, column=column, severity="critical", success=True)


def validation(*failures: ExpectationOutcome, error: str | None = None) -> ValidationSummary:
    return ValidationSummary(suite="flights-delay", error=error,
                             outcomes=[passed("expect_column_to_exist", "carrier"), *failures])


CARRIER_FAILURE = failed("expect_column_values_to_be_in_set", "carrier", observed="3.2% unexpected",
                         unexpected_count=64)
ROW_COUNT_FAILURE = failed("expect_table_row_count_to_be_between", observed="0 rows")


CLEAN = measured()


def decide(*, config: ModelConfig | None = None, row_count: int = 2000,
           checks: ValidationSummary | None = None, drift: DriftSummary | None = CLEAN,
           history: Sequence[bool] = ()) -> Verdict:
    """Call the pure policy (the task's `.fn`) with a clean, valid, large window unless told otherwise."""
    return decide_verdict.fn(config=config or model_config(), row_count=row_count,
                             validation=checks or validation(), drift=drift, history=history)


# everything that can go wrong at once: all features, the prediction and performance drifted, history breached
HUGE_DRIFT = measured(drifted_features=10, prediction_drifted=True, target_drifted=True,
                      perf=performance(value=0.5, reference=0.8))


# --- a clean window --------------------------------------------------------------------------------------

def test_clean_window_is_ok_with_a_summary_reason() -> None:
    """A valid, large window with no drift and stable performance is ok, names what was checked and
    breaches nothing."""
    verdict = decide()
    assert verdict == Verdict("ok", ["no drift: 0 of 10 features drifted, roc_auc 0.71 (reference 0.72)"],
                              breach=False, drifted_columns=[])


def test_the_task_is_registered_under_its_prefect_name() -> None:
    """The policy runs in flows as the Prefect task `decide-verdict`."""
    assert decide_verdict.name == "decide-verdict"


# --- invalid data ---------------------------------------------------------------------------------------

def test_failed_critical_expectation_blocks_with_one_reason_per_failure() -> None:
    """With on_failure block, a failed critical expectation makes the window data-invalid; each failed
    critical expectation is one reason naming the expectation, the column and what was observed."""
    verdict = decide(checks=validation(CARRIER_FAILURE, failed("expect_column_values_to_not_be_null", "temp",
                                                                  unexpected_count=1),
                                       failed("expect_column_mean_to_be_between", "distance",
                                              severity="warning", observed="2040.5")))
    assert verdict.status == "data_invalid"
    assert verdict.breach is False
    assert verdict.reasons == [
        "expect_column_values_to_be_in_set on carrier failed: 3.2% unexpected (64 unexpected rows)",
        "expect_column_values_to_not_be_null on temp failed: 1 unexpected row",
    ]


@pytest.mark.parametrize("history", [(), (True, True), (True, True, True, True)])
def test_invalid_data_never_counts_as_drift(history: tuple[bool, ...]) -> None:
    """Invalid data with enormous drift and a breached history is data-invalid, not drift: no breach and
    no drifted columns are recorded, so it can never trigger retraining."""
    verdict = decide(checks=validation(CARRIER_FAILURE), drift=HUGE_DRIFT, history=history,
                     config=model_config(breaches=1, of_last=1))
    assert verdict.status == "data_invalid"
    assert verdict.breach is False
    assert verdict.drifted_columns == []


def test_a_suite_that_cannot_be_evaluated_blocks() -> None:
    """A suite that could not be evaluated at all counts as a critical failure and says why."""
    verdict = decide(checks=validation(error="column 'carrier' is missing"), drift=None)
    assert verdict == Verdict("data_invalid",
                              ["suite flights-delay could not be evaluated: column 'carrier' is missing"],
                              breach=False)


def test_failure_without_details_still_reads_as_a_sentence() -> None:
    """A failure with neither an observed value nor a count just says the expectation failed."""
    verdict = decide(checks=validation(failed("expect_column_to_exist", "carrier")))
    assert verdict.reasons == ["expect_column_to_exist on carrier failed"]


def test_a_critical_failure_whose_action_is_warn_does_not_block() -> None:
    """With on_failure warn (validate gives the failure the action `warn`), a critical failure does not block:
    the window is evaluated and warns, with the failure among its reasons."""
    verdict = decide(config=model_config(on_failure="warn"),
                     checks=validation(replace(CARRIER_FAILURE, action="warn")))
    assert verdict.status == "warn"
    assert verdict.breach is False
    assert verdict.reasons == ["expect_column_values_to_be_in_set on carrier failed: 3.2% unexpected "
                               "(64 unexpected rows) (critical)"]


def test_a_warning_action_still_lets_persistent_drift_through() -> None:
    """A persistent breach on data whose critical failure only warns is still drift."""
    verdict = decide(config=model_config(on_failure="warn", breaches=1, of_last=1),
                     checks=validation(replace(CARRIER_FAILURE, action="warn")),
                     drift=measured(prediction_drifted=True))
    assert verdict.status == "drift"
    assert any("(critical)" in reason for reason in verdict.reasons)


# --- too little data ------------------------------------------------------------------------------------

@pytest.mark.parametrize("on_failure", ["block", "warn"])
def test_empty_window_is_insufficient_data_even_though_its_row_count_check_fails(on_failure: str) -> None:
    """A window with no rows ends as insufficient-data (not data-invalid), breaches nothing and requests
    no retraining; its failing row-count expectation is a consequence of the emptiness, not a data fault."""
    verdict = decide(config=model_config(on_failure=on_failure), row_count=0,
                     checks=validation(ROW_COUNT_FAILURE), drift=None, history=(True, True))
    assert verdict == Verdict("insufficient_data",
                              ["the window is empty; the policy needs at least 500 rows"], breach=False)


@pytest.mark.parametrize(("row_count", "status"), [(1, "insufficient_data"), (499, "insufficient_data"),
                                                   (500, "ok"), (501, "ok")])
def test_min_rows_is_the_smallest_window_that_is_judged(row_count: int, status: str) -> None:
    """A window with fewer than min_rows rows is insufficient-data; exactly min_rows is judged."""
    verdict = decide(row_count=row_count, drift=HUGE_DRIFT if status == "insufficient_data" else CLEAN,
                     history=(True, True))
    assert verdict.status == status
    if status == "insufficient_data":
        assert verdict.breach is False
        assert verdict.reasons == [f"the window has {row_count} row{'s' if row_count > 1 else ''}; "
                                   "the policy needs at least 500 rows"]


def test_small_but_invalid_window_is_data_invalid() -> None:
    """A non-empty window that is both too small and invalid reports the invalid data first."""
    verdict = decide(row_count=10, checks=validation(CARRIER_FAILURE))
    assert verdict.status == "data_invalid"


# --- breach rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("drifted", "breach"), [(2, False), (3, True), (4, True)])
def test_dataset_drift_breaches_from_exactly_the_dataset_share(drifted: int, breach: bool) -> None:
    """Dataset drift breaches when the drifted share of features reaches dataset_share (3 of 10 = 0.3 is a
    breach); below it the drifted features only warn."""
    verdict = decide(drift=measured(drifted_features=drifted))
    assert verdict.breach is breach
    assert verdict.status == "warn"
    assert verdict.drifted_columns == FEATURES[:drifted]


def test_dataset_drift_reason_names_columns_scores_method_and_threshold() -> None:
    """The dataset-drift reason lists the drifted columns with score, method and threshold (3 decimals)."""
    extra = column("delay_min", drifted=True, score=0.123456, method="psi", threshold=0.2)
    verdict = decide(drift=measured(drifted_features=3, extra=[extra]))
    assert verdict.reasons[0] == (
        "dataset drift: 4 of 11 features drifted (share 0.364 >= 0.3): distance (wasserstein 0.25, "
        "threshold 0.1), dep_hour (wasserstein 0.25, threshold 0.1), temp (wasserstein 0.25, threshold 0.1), "
        "delay_min (psi 0.123, threshold 0.2)")


def test_drift_below_the_share_warns_and_names_the_columns() -> None:
    """Some drifted features below dataset_share are a warn reason, not a breach."""
    verdict = decide(drift=measured(drifted_features=1))
    assert verdict == Verdict(
        "warn", ["1 of 10 features drifted (share 0.1 < 0.3, not dataset drift): distance (wasserstein 0.25, "
                 "threshold 0.1)"], breach=False, drifted_columns=["distance"])


def test_prediction_drift_alone_is_a_breach() -> None:
    """A drifted prediction breaches on its own and is listed among the drifted columns."""
    verdict = decide(drift=measured(prediction_drifted=True))
    assert verdict.breach is True
    assert verdict.reasons[0] == "prediction drift: delay_proba (wasserstein 0.25, threshold 0.1)"
    assert verdict.drifted_columns == ["delay_proba"]


def test_target_drift_alone_only_warns() -> None:
    """Target drift is worth a look but is no breach, and the target is not a drifted column."""
    verdict = decide(drift=measured(target_drifted=True), history=(True, True))
    assert verdict == Verdict(
        "warn", ["target drift (not a breach on its own): arrived_late (jensenshannon 0.25, threshold 0.1)"],
        breach=False, drifted_columns=[])


def test_concept_drift_reason_reads_like_the_metric_comparison() -> None:
    """A performance drop beyond max_drop breaches; the reason gives metric, reference, drop, allowance
    and the number of labelled rows."""
    verdict = decide(drift=measured(perf=performance(value=0.62, reference=0.71)))
    assert verdict.breach is True
    assert verdict.reasons[0] == ("concept drift: roc_auc 0.62 vs reference 0.71 (drop 0.09 > allowed 0.05) "
                                  "on 1234 labelled rows")
    assert verdict.drifted_columns == []


@pytest.mark.parametrize(("value", "reference", "breach"), [
    (0.5, 0.75, False),    # drop exactly 0.25 (exact in binary): not strictly greater
    (0.67, 0.72, False),   # 0.72 - 0.67 = 0.05000000000000004 in floats: still "equal"
    (0.66, 0.71, False),   # 0.04999999999999993
    (0.499, 0.75, True),   # 0.251
    (0.9, 0.75, False),    # better than the reference
])
def test_concept_drift_needs_a_drop_strictly_greater_than_max_drop(value: float, reference: float,
                                                                   breach: bool) -> None:
    """A drop equal to max_drop (up to float noise) is no breach; only a strictly greater drop is."""
    max_drop = 0.25 if reference == 0.75 else 0.05
    verdict = decide(config=model_config(max_drop=max_drop),
                     drift=measured(perf=performance(value=value, reference=reference)))
    assert verdict.breach is breach


def test_concept_drift_for_a_lower_is_better_metric() -> None:
    """For an error metric such as rmse, a rise beyond max_drop is the breach."""
    config = model_config(task="regression", metric="rmse", max_drop=1.0)
    worse = performance(value=12.5, reference=10.0, metric="rmse", higher_is_better=False)
    better = performance(value=8.0, reference=10.0, metric="rmse", higher_is_better=False)
    assert decide(config=config, drift=measured(perf=worse)).reasons[0] == (
        "concept drift: rmse 12.5 vs reference 10 (drop 2.5 > allowed 1) on 1234 labelled rows")
    assert decide(config=config, drift=measured(perf=better)).status == "ok"


@pytest.mark.parametrize(("perf", "reason"), [
    (performance(value=None, labelled_rows=50),
     "concept drift not checked: 50 labelled rows, the policy needs at least 200"),
    (performance(value=0.3, labelled_rows=199),   # measured, but on too few rows to trust
     "concept drift not checked: 199 labelled rows, the policy needs at least 200"),
    (performance(value=None, labelled_rows=300),
     "concept drift not checked: roc_auc could not be computed on 300 labelled rows"),
    (performance(reference=None), "concept drift not checked: the reference has no roc_auc value"),
])
def test_unmeasurable_performance_warns_and_never_breaches(perf: PerformanceSummary, reason: str) -> None:
    """Performance that cannot be compared (too few labelled rows, no value, no reference value) warns
    with the reason and is never a concept-drift breach."""
    verdict = decide(drift=measured(perf=perf), history=(True, True))
    assert verdict == Verdict("warn", [reason], breach=False)


def test_min_labelled_rows_is_enough_to_judge_performance() -> None:
    """Exactly min_labelled_rows labelled rows is enough to judge concept drift."""
    verdict = decide(drift=measured(perf=performance(value=0.5, reference=0.8, labelled_rows=200)))
    assert verdict.breach is True


def test_all_breaches_are_reported_together() -> None:
    """A window breaching several rules gives one reason per rule, then the persistence."""
    verdict = decide(drift=HUGE_DRIFT, history=(True,))
    assert verdict.status == "drift"
    assert [r.split(":")[0] for r in verdict.reasons[:3]] == ["dataset drift", "concept drift",
                                                              "prediction drift"]
    assert verdict.reasons[3] == "2 of the last 3 windows breached (drift needs 2)"
    assert verdict.reasons[4].startswith("target drift")
    assert verdict.drifted_columns == [*FEATURES, "delay_proba"]


# --- persistence ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("breaches", "of_last", "history", "status", "persistence_reason"), [
    (1, 1, (), "drift", "1 of the last 1 window breached (drift needs 1)"),
    (1, 1, (False, False, False), "drift", "1 of the last 1 window breached (drift needs 1)"),
    (1, 1, (True, True, True), "drift", "1 of the last 1 window breached (drift needs 1)"),
    (2, 3, (), "warn", "1 of the last 3 windows breached; drift needs 2"),
    (2, 3, (False, False), "warn", "1 of the last 3 windows breached; drift needs 2"),
    (2, 3, (True, False), "drift", "2 of the last 3 windows breached (drift needs 2)"),
    (2, 3, (False, True), "drift", "2 of the last 3 windows breached (drift needs 2)"),
    (2, 3, (True, True), "drift", "3 of the last 3 windows breached (drift needs 2)"),
    (2, 3, (True, False, False), "warn", "1 of the last 3 windows breached; drift needs 2"),
    (2, 3, (True, True, True, False, False), "warn", "1 of the last 3 windows breached; drift needs 2"),
    (3, 3, (True,), "warn", "2 of the last 3 windows breached; drift needs 3"),
    (3, 3, (True, False), "warn", "2 of the last 3 windows breached; drift needs 3"),
    (3, 3, (True, True), "drift", "3 of the last 3 windows breached (drift needs 3)"),
    (3, 3, (False, True, True), "drift", "3 of the last 3 windows breached (drift needs 3)"),
    (3, 3, (True, True, False, True), "warn", "2 of the last 3 windows breached; drift needs 3"),
])
def test_a_breach_is_drift_only_when_it_persists(breaches: int, of_last: int, history: tuple[bool, ...],
                                                 status: str, persistence_reason: str) -> None:
    """A breaching window is drift when it and the previous of_last - 1 windows hold at least `breaches`
    breaches, otherwise warn; older history is ignored and missing history counts as no breach. Either way
    the window itself is recorded as a breach."""
    verdict = decide(config=model_config(breaches=breaches, of_last=of_last), history=history,
                     drift=measured(prediction_drifted=True))
    assert verdict.status == status
    assert verdict.breach is True
    assert verdict.reasons == ["prediction drift: delay_proba (wasserstein 0.25, threshold 0.1)",
                               persistence_reason]


@pytest.mark.parametrize("history", [(), (True,), (True, True), (True, True, True, True, True)])
def test_history_alone_never_makes_a_clean_window_drift(history: tuple[bool, ...]) -> None:
    """Without a breach in this window, past breaches do not matter: the window is ok."""
    assert decide(config=model_config(breaches=1, of_last=3), history=history).status == "ok"


# --- warnings without a breach --------------------------------------------------------------------------

def test_non_critical_expectation_failures_warn() -> None:
    """A failed warning-level expectation never blocks; it makes an otherwise clean window warn."""
    verdict = decide(checks=validation(failed("expect_column_mean_to_be_between", "distance",
                                              severity="warning", observed="mean 2040.5")))
    assert verdict == Verdict(
        "warn", ["expect_column_mean_to_be_between on distance failed: mean 2040.5 (warning)"], breach=False)


def test_unmeasurable_column_warns_and_says_why() -> None:
    """A column that could not be measured (constant, all null) is reported, not silently skipped."""
    broken = column("wind_gust", issue="all values are null")
    verdict = decide(drift=measured(extra=[broken]))
    assert verdict == Verdict("warn", ["numeric column wind_gust could not be measured: all values are null"],
                              breach=False)


def test_valid_window_without_drift_measurements_warns() -> None:
    """A valid, large window whose drift was not measured warns rather than passing as ok."""
    verdict = decide(drift=None)
    assert verdict == Verdict("warn", ["drift was not measured for this window"], breach=False)


def test_warn_reasons_accompany_a_breach() -> None:
    """A breach also reports everything else worth a look after the persistence reason."""
    verdict = decide(drift=measured(prediction_drifted=True, drifted_features=1),
                     checks=validation(failed("expect_column_mean_to_be_between", "distance",
                                              severity="warning")))
    assert verdict.status == "warn"
    assert verdict.reasons[1:] == [
        "1 of the last 3 windows breached; drift needs 2",
        "expect_column_mean_to_be_between on distance failed (warning)",
        "1 of 10 features drifted (share 0.1 < 0.3, not dataset drift): distance (wasserstein 0.25, "
        "threshold 0.1)",
    ]
    assert verdict.drifted_columns == ["distance", "delay_proba"]
