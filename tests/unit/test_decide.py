"""The verdict policy, rule by rule, without Prefect or a database: severity, ordering, persistence, severe."""

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
CONTROL = "Benjamini–Hochberg at a false discovery rate of 0.05 across 10 features"


# --- helpers that build the inputs -------------------------------------------------------------------------

def model_config(*, breaches: int = 2, of_last: int = 3, min_rows: int = 500, dataset_share: float = 0.3,
                 max_drop: float | str = 0.05, min_labelled_rows: int = 200, on_failure: str = "block",
                 task: str = "classification", metric: str = "roc_auc", estimate: str = "off",
                 severe: dict[str, Any] | None = None, confidence: float = 0.95) -> ModelConfig:
    return ModelConfig.model_validate({
        "name": "flights-delay",
        "task": task,
        "source": {"table": "flight_predictions", "timestamp": "scheduled_at", "id": "flight_id"},
        "columns": {"numeric": NUMERIC, "categorical": CATEGORICAL, "prediction": "delay_proba",
                    "target": {"column": "arrived_late", "label_delay": "2d"}},
        "schedule": {"cron": "0 6 * * 1", "window": "7d"},
        "validation": {"suite": "flights-delay", "on_failure": on_failure},
        "drift": {"dataset_share": dataset_share},
        "performance": {"metric": metric, "max_drop": max_drop, "min_labelled_rows": min_labelled_rows,
                        "estimate": estimate, "confidence": confidence},
        "policy": {"persistence": {"breaches": breaches, "of_last": of_last}, "min_rows": min_rows,
                   "severe": severe or {}},
        "retraining": {"trainer": "tasks.retrain.trainers:gradient_boosting", "train_window": "60d"},
    })


def column(name: str, *, drifted: bool = False, score: float | None = None, kind: Any = "numeric",
           method: str = "wasserstein", threshold: float = 0.1, issue: str | None = None,
           severity: Any = "warn", source: str = "fixed", p_value: float | None = None) -> ColumnDrift:
    if score is None and issue is None:
        score = 0.25 if drifted else 0.02
    return ColumnDrift(column=name, kind=kind, method=method, threshold=threshold, score=score,
                       drifted=drifted, issue=issue, severity=severity, threshold_source=source, p_value=p_value)


def performance(value: float | None = 0.71, reference: float | None = 0.72, labelled_rows: int = 1234,
                metric: str = "roc_auc", higher_is_better: bool = True, **more: Any) -> PerformanceSummary:
    return PerformanceSummary(metric=metric, value=value, reference_value=reference,
                              labelled_rows=labelled_rows, higher_is_better=higher_is_better, **more)


def measured(*, drifted_features: int = 0, prediction_drifted: bool = False, target_drifted: bool = False,
             perf: PerformanceSummary | None = None, extra: Sequence[ColumnDrift] = (),
             severity: dict[str, str] | None = None, notes: Sequence[str] = (),
             control: str | None = None) -> DriftSummary:
    """Ten features of which the first `drifted_features` drifted, then the prediction and the target;
    `severity` opts kinds ('features', 'prediction', 'target') into breaches as drift.severity would."""
    opted = {"features": "warn", "prediction": "warn", "target": "warn", **(severity or {})}
    features = [column(name, drifted=i < drifted_features, severity=opted["features"])
                for i, name in enumerate(FEATURES)]
    features += list(extra)
    scored = [c for c in features if c.score is not None]
    share = sum(c.drifted for c in scored) / len(scored)
    return DriftSummary(
        columns=[*features,
                 column("delay_proba", kind="prediction", drifted=prediction_drifted, severity=opted["prediction"]),
                 column("arrived_late", kind="target", method="jensenshannon", drifted=target_drifted,
                        severity=opted["target"])],
        drift_share=share,
        performance=perf or performance(),
        false_alarm_control=control,
        notes=list(notes),
    )


def failed(expectation: str, column: str | None = None, *, severity: Any = "critical",
           observed: str | None = None, unexpected_count: int | None = None,
           action: Any = None) -> ExpectationOutcome:
    return ExpectationOutcome(expectation=expectation, column=column, severity=severity, success=False,
                              observed=observed, unexpected_count=unexpected_count, action=action)


def passed(expectation: str, column: str | None = None) -> ExpectationOutcome:
    return ExpectationOutcome(expectation=expectation, column=column, severity="critical", success=True)


def validation(*failures: ExpectationOutcome, error: str | None = None, quarantined: int = 0) -> ValidationSummary:
    return ValidationSummary(suite="flights-delay", error=error, quarantined_rows=quarantined,
                             outcomes=[passed("expect_column_to_exist", "carrier"), *failures])


CARRIER_FAILURE = failed("expect_column_values_to_be_in_set", "carrier", observed="3.2% unexpected",
                         unexpected_count=64)
ROW_COUNT_FAILURE = failed("expect_table_row_count_to_be_between", observed="0 rows")
RAIN_WARNING = failed("expect_column_values_to_be_between", "precip", severity="warning",
                      observed="1 of 2000 unexpected, e.g. 9999.0", unexpected_count=1)
DUPLICATES = failed("expect_compound_columns_to_be_unique", observed="40 duplicated rows", action="quarantine")

CLEAN = measured()
BREACH = {"prediction": "breach"}  # a model that opted prediction drift into breaches
DROP = performance(value=0.62, reference=0.71, ci_low=0.6, ci_high=0.64)  # beyond 0.05 even at its bound


def decide(*, config: ModelConfig | None = None, row_count: int = 2000,
           checks: ValidationSummary | None = None, drift: DriftSummary | None = CLEAN,
           history: Sequence[bool | None] = (), recent: Sequence[PerformanceSummary | None] = ()) -> Verdict:
    """Call the pure policy (the task's `.fn`) with a clean, valid, large window unless told otherwise."""
    return decide_verdict.fn(config=config or model_config(), row_count=row_count,
                             validation=checks or validation(), drift=drift, history=history, recent=recent)


# everything that can go wrong at once, every drift signal opted into breaches
HUGE_DRIFT = measured(drifted_features=10, prediction_drifted=True, target_drifted=True,
                      severity={"features": "breach", "prediction": "breach", "target": "breach"},
                      perf=performance(value=0.5, reference=0.8, ci_low=0.47, ci_high=0.53), control=CONTROL)


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


def test_reference_notes_are_said_but_keep_a_clean_window_ok() -> None:
    """A reference-level note (a column constant in the reference) is said once in the reasons and does not
    turn a clean window into a warning."""
    note = "dest is constant in the reference (JFK): its drift is not scored"
    verdict = decide(drift=measured(notes=[note]))
    assert verdict.status == "ok"
    assert verdict.reasons[1:] == [note]


# --- invalid data ---------------------------------------------------------------------------------------

def test_blocking_failures_are_one_reason_each_and_keep_the_warnings() -> None:
    """A failed blocking expectation makes the window data-invalid; each one is a reason, and the
    warning-level findings (an impossible rainfall value) stay in the reasons after them."""
    verdict = decide(checks=validation(CARRIER_FAILURE, failed("expect_column_values_to_not_be_null", "temp",
                                                                  unexpected_count=1), RAIN_WARNING))
    assert verdict.status == "data_invalid"
    assert verdict.breach is False
    assert verdict.reasons == [
        "expect_column_values_to_be_in_set on carrier failed: 3.2% unexpected (64 unexpected rows)",
        "expect_column_values_to_not_be_null on temp failed: 1 unexpected row",
        "expect_column_values_to_be_between on precip failed: 1 of 2000 unexpected, e.g. 9999.0 "
        "(1 unexpected row) (warning)",
    ]


def test_data_invalid_keeps_the_quarantine_counts() -> None:
    """Rows quarantined before a blocking failure are still counted in the data-invalid reasons."""
    verdict = decide(checks=validation(CARRIER_FAILURE, DUPLICATES, quarantined=40))
    assert verdict.status == "data_invalid"
    assert verdict.reasons[-1] == ("quarantined 40 rows: expect_compound_columns_to_be_unique failed: "
                                   "40 duplicated rows")


def test_quarantined_rows_are_counted_and_the_rest_is_measured() -> None:
    """A window with quarantined rows is still judged: the count is a warning next to what was measured."""
    verdict = decide(checks=validation(DUPLICATES, quarantined=40), drift=measured(perf=DROP))
    assert verdict.breach is True
    assert "quarantined 40 rows: expect_compound_columns_to_be_unique failed: 40 duplicated rows" in verdict.reasons


@pytest.mark.parametrize("history", [(), (True, True), (True, True, True, True)])
def test_invalid_data_never_counts_as_drift(history: tuple[bool, ...]) -> None:
    """Invalid data with enormous, severe drift and a breached history is data-invalid, not drift: no breach
    and no drifted columns are recorded, so it can never trigger retraining."""
    verdict = decide(checks=validation(CARRIER_FAILURE), drift=HUGE_DRIFT, history=history,
                     config=model_config(breaches=1, of_last=1))
    assert verdict.status == "data_invalid"
    assert verdict.breach is False
    assert verdict.severe is False
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
                     checks=validation(replace(CARRIER_FAILURE, action="warn")), drift=measured(perf=DROP))
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


# --- drift signals: warnings unless opted in ------------------------------------------------------------

@pytest.mark.parametrize("drifted", [3, 10])
def test_dataset_drift_only_warns_by_default(drifted: int) -> None:
    """Dataset drift (even every feature) is a warning by default: no breach, nothing toward drift, with a
    persistent history."""
    verdict = decide(drift=measured(drifted_features=drifted), history=(True, True))
    assert verdict.status == "warn"
    assert verdict.breach is False
    assert verdict.reasons[0].startswith(f"dataset drift (a warning): {drifted} of 10 features drifted")
    assert verdict.drifted_columns == FEATURES[:drifted]


@pytest.mark.parametrize(("drifted", "breach"), [(2, False), (3, True), (4, True)])
def test_opted_in_dataset_drift_breaches_from_exactly_the_dataset_share(drifted: int, breach: bool) -> None:
    """With feature drift opted into breaches, dataset drift breaches when the drifted share reaches
    dataset_share (3 of 10 = 0.3); below it the drifted features only warn."""
    verdict = decide(drift=measured(drifted_features=drifted, severity={"features": "breach"}))
    assert verdict.breach is breach
    assert verdict.status == "warn"
    assert verdict.drifted_columns == FEATURES[:drifted]


def test_drift_reasons_show_score_threshold_and_where_the_threshold_came_from() -> None:
    """Each drifted column reads 'temp 1.43 > 1.21, the p99 of 24 reference chunks', with its tail probability;
    a p-value method drifts below its threshold and a fixed threshold says it is fixed."""
    temp = column("temp", drifted=True, score=1.43, threshold=1.21, source="the p99 of 24 reference chunks",
                  p_value=0.0004)
    humid = column("humid", drifted=True, score=0.001, threshold=0.01, method="ks", source="fixed")
    features = [temp, humid, *(column(n) for n in FEATURES if n not in ("temp", "humid"))]
    drift = DriftSummary(columns=features, drift_share=0.2, performance=performance())
    verdict = decide(drift=drift)
    assert verdict.reasons == [
        "2 of 10 features drifted (share 0.2 < 0.3, not dataset drift): temp 1.43 > 1.21, the p99 of 24 "
        "reference chunks (p 0.0004); humid 0.001 < 0.01, fixed"]


def test_a_column_drifted_by_the_false_alarm_control_says_it_is_within_its_band() -> None:
    """A column flagged by the multiple-testing control although its score is inside its band shows the
    comparison as it is ('<='), never a false '>'."""
    dest = column("dest", drifted=True, score=0.09, threshold=0.1, source="the p99 of 24 reference chunks",
                  p_value=0.02)
    features = [dest, *(column(n) for n in FEATURES if n != "dest")]
    verdict = decide(drift=DriftSummary(columns=features, drift_share=0.1, performance=performance()))
    assert verdict.reasons[0].endswith("dest 0.09 <= 0.1, the p99 of 24 reference chunks (p 0.02)")


def test_the_false_alarm_control_is_said_once() -> None:
    """The multiple-testing control behind the drifted features is named once, however many drifted."""
    verdict = decide(drift=measured(drifted_features=4, control=CONTROL))
    assert sum(CONTROL in reason for reason in verdict.reasons) == 1
    assert verdict.reasons[-1] == f"false alarms across features: {CONTROL}"


@pytest.mark.parametrize(("kind", "severity", "breach"), [("prediction", "warn", False),
                                                          ("prediction", "breach", True),
                                                          ("target", "warn", False), ("target", "breach", True)])
def test_prediction_and_target_drift_warn_unless_opted_in(kind: str, severity: str, breach: bool) -> None:
    """Prediction and target drift are warnings by default and breaches when the model's YAML opts them in;
    the target is never a drifted column."""
    drift = measured(prediction_drifted=kind == "prediction", target_drifted=kind == "target",
                     severity={kind: severity})
    verdict = decide(drift=drift, history=(True, True))
    assert verdict.breach is breach
    assert verdict.status == ("drift" if breach else "warn")
    name = "delay_proba 0.25 > 0.1, fixed" if kind == "prediction" else "arrived_late 0.25 > 0.1, fixed"
    label = "" if breach else " (a warning)"
    assert verdict.reasons[0] == f"{kind} drift{label}: {name}"
    assert verdict.drifted_columns == (["delay_proba"] if kind == "prediction" else [])


# --- performance: the breach --------------------------------------------------------------------------------

def test_concept_drift_reason_gives_the_interval_bound_and_allowance_source() -> None:
    """A drop whose confidence bound exceeds the allowance breaches; the reason gives the metric with its
    interval, the reference, the drop and its bound, the allowance with its source and the labelled rows."""
    perf = replace(DROP, allowance=0.05, allowance_source="2sd: twice the spread (0.025) of 24 reference chunks")
    verdict = decide(drift=measured(perf=perf))
    assert verdict.breach is True
    assert verdict.reasons[0] == (
        "concept drift: roc_auc 0.62 (95% CI 0.6–0.64) vs reference 0.71: drop 0.09, at least 0.07 at 95% "
        "confidence, > allowed 0.05 (2sd: twice the spread (0.025) of 24 reference chunks) on 1,234 labelled rows")
    assert verdict.drifted_columns == []


def test_a_drop_inside_its_confidence_interval_only_warns() -> None:
    """A point drop beyond the allowance that the interval does not confirm (the bound is within it) is a
    warning, not concept drift: a small window's noise must not request retraining."""
    perf = performance(value=0.64, reference=0.71, ci_low=0.58, ci_high=0.69, labelled_rows=250)
    verdict = decide(drift=measured(perf=perf), history=(True, True))
    assert verdict == Verdict("warn", [
        "roc_auc 0.64 (95% CI 0.58–0.69) vs reference 0.71: drop 0.07 > allowed 0.05, but within the 95% "
        "confidence interval of 250 labelled rows (not concept drift)"], breach=False)


# a drop of 0.09 beyond 0.05 that a 95% interval of 250 rows does not confirm alone (bound 0.04)
UNSURE = performance(value=0.62, reference=0.71, ci_low=0.57, ci_high=0.67, labelled_rows=250, allowance=0.05)


def test_consecutive_unconfirmed_drops_confirmed_together_are_drift() -> None:
    """Two windows in a row whose point drops exceed the allowance, neither confirmed by its own interval: their
    labelled rows pooled confirm it, so the drop is a breach and persistent by construction (drift at once, even
    though neither earlier window was recorded as a breach)."""
    verdict = decide(drift=measured(perf=UNSURE), history=(False, False), recent=(None, UNSURE))
    assert verdict.status == "drift" and verdict.breach is True
    assert verdict.reasons == [
        "concept drift: roc_auc 0.62 (95% CI 0.57–0.67) vs reference 0.71: drop 0.09 > allowed 0.05 on 250 "
        "labelled rows; in each of the last 2 windows the drop exceeds its allowance, and their 500 labelled "
        "rows together put the excess at 0.04, at least 0.0046 at 95% confidence",
        "1 of the last 3 scheduled windows breached; the drop persisted in 2 consecutive windows, confirmed by "
        "their labelled rows together (drift needs 2)"]


def test_an_unconfirmed_drop_after_a_quiet_window_only_warns() -> None:
    """The run of drops must end with this window and be consecutive: a quiet window between breaks it."""
    quiet = replace(UNSURE, value=0.7, ci_low=0.65, ci_high=0.75)
    verdict = decide(drift=measured(perf=UNSURE), history=(False, False), recent=(UNSURE, quiet))
    assert verdict.status == "warn" and verdict.breach is False
    assert verdict.reasons[0].endswith("but within the 95% confidence interval of 250 labelled rows "
                                       "(not concept drift)")


def test_a_pooled_drop_needs_as_many_windows_as_the_persistence_rule() -> None:
    """With persistence 3 of 3, two windows' pooled evidence is not enough; three are."""
    config = model_config(breaches=3, of_last=3)
    assert decide(config=config, drift=measured(perf=UNSURE), recent=(None, UNSURE)).status == "warn"
    assert decide(config=config, drift=measured(perf=UNSURE), recent=(UNSURE, UNSURE)).status == "drift"


@pytest.mark.parametrize(("ci_high", "breach"), [(0.66, False), (0.6599, True)])
def test_the_confidence_bound_must_exceed_the_allowance_strictly(ci_high: float, breach: bool) -> None:
    """reference - ci_high equal to the allowance (0.71 - 0.66 = 0.05 up to float noise) is no breach."""
    perf = performance(value=0.62, reference=0.71, ci_low=0.58, ci_high=ci_high)
    assert decide(drift=measured(perf=perf)).breach is breach


@pytest.mark.parametrize(("value", "reference", "breach"), [
    (0.5, 0.75, False),    # drop exactly 0.25 (exact in binary): not strictly greater
    (0.67, 0.72, False),   # 0.72 - 0.67 = 0.05000000000000004 in floats: still "equal"
    (0.66, 0.71, False),   # 0.04999999999999993
    (0.499, 0.75, True),   # 0.251
    (0.9, 0.75, False),    # better than the reference
])
def test_without_an_interval_the_drop_itself_must_exceed_max_drop(value: float, reference: float,
                                                                  breach: bool) -> None:
    """Without a confidence interval, a drop equal to max_drop (up to float noise) is no breach; only a
    strictly greater drop is."""
    max_drop = 0.25 if reference == 0.75 else 0.05
    verdict = decide(config=model_config(max_drop=max_drop),
                     drift=measured(perf=performance(value=value, reference=reference)))
    assert verdict.breach is breach


def test_concept_drift_for_a_lower_is_better_metric_uses_the_low_end() -> None:
    """For an error metric such as rmse the breach is a rise whose lower bound exceeds the allowance."""
    config = model_config(task="regression", metric="rmse", max_drop=1.0)
    worse = performance(value=12.5, reference=10.0, metric="rmse", higher_is_better=False, ci_low=11.5,
                        ci_high=13.5)
    unsure = replace(worse, ci_low=10.9)
    better = performance(value=8.0, reference=10.0, metric="rmse", higher_is_better=False)
    assert decide(config=config, drift=measured(perf=worse)).reasons[0] == (
        "concept drift: rmse 12.5 (95% CI 11.5–13.5) vs reference 10: drop 2.5, at least 1.5 at 95% "
        "confidence, > allowed 1 on 1,234 labelled rows")
    assert decide(config=config, drift=measured(perf=unsure)).breach is False
    assert decide(config=config, drift=measured(perf=better)).status == "ok"


def test_the_confidence_level_is_the_configured_one() -> None:
    """The reasons name the configured confidence level."""
    verdict = decide(config=model_config(confidence=0.9), drift=measured(perf=DROP))
    assert "(90% CI 0.6–0.64)" in verdict.reasons[0]


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


def test_a_spread_allowance_without_its_spread_is_not_checked() -> None:
    """max_drop '2sd' needs the reference's chunk spread: without a measured allowance the drop is not judged."""
    verdict = decide(config=model_config(max_drop="2sd"), drift=measured(perf=DROP))
    assert verdict == Verdict("warn", ["concept drift not checked: allowance 2sd needs the reference's chunk "
                                       "spread"], breach=False)


def test_the_measured_allowance_wins_over_the_configured_one() -> None:
    """The allowance resolved at measurement (from the reference's chunks) is the one judged against."""
    wide = replace(DROP, allowance=0.2, allowance_source="2sd: twice the spread (0.1) of 12 reference chunks")
    assert decide(config=model_config(max_drop="2sd"), drift=measured(perf=wide)).status == "ok"


def test_min_labelled_rows_is_enough_to_judge_performance() -> None:
    """Exactly min_labelled_rows labelled rows is enough to judge concept drift."""
    verdict = decide(drift=measured(perf=performance(value=0.5, reference=0.8, labelled_rows=200)))
    assert verdict.breach is True


# --- performance: severe ----------------------------------------------------------------------------------

def test_a_severe_drop_is_drift_at_once() -> None:
    """A drop whose bound exceeds factor x allowance is severe: drift in its first breaching window, with
    the persistence count still said."""
    verdict = decide(drift=measured(perf=DROP))  # bound 0.07 < 2 x 0.05
    severe = decide(config=model_config(severe={"factor": 1.2}), drift=measured(perf=DROP))
    assert severe.status == "drift"
    assert severe.severe is True
    assert severe.reasons[0].startswith("severe concept drift: roc_auc 0.62")
    assert severe.reasons[0].endswith("; more than 1.2 times the allowance")
    assert severe.reasons[1] == ("1 of the last 3 scheduled windows breached (2 without a record, counted as no "
                                 "breach); a severe breach is drift without waiting for 2")
    assert verdict.severe is False
    assert verdict.status == "warn"


def test_a_severe_drop_waits_for_persistence_when_configured_to() -> None:
    """With severe.skips_persistence false, a severe breach is flagged severe but waits like any breach."""
    config = model_config(severe={"factor": 1.2, "skips_persistence": False})
    verdict = decide(config=config, drift=measured(perf=DROP))
    assert (verdict.status, verdict.breach, verdict.severe) == ("warn", True, True)
    assert decide(config=config, drift=measured(perf=DROP), history=(False, True)).status == "drift"


@pytest.mark.parametrize(("ci_high", "severe"), [(0.61, False), (0.6099, True)])
def test_severe_needs_the_bound_strictly_beyond_factor_times_the_allowance(ci_high: float, severe: bool) -> None:
    """Severe is a bound strictly beyond factor x allowance (0.71 - 0.61 = 0.1 = 2 x 0.05 is not)."""
    perf = performance(value=0.6, reference=0.71, ci_low=0.58, ci_high=ci_high)
    assert decide(drift=measured(perf=perf)).severe is severe


def test_drift_signals_are_never_severe() -> None:
    """Only performance can be severe: every drift signal opted in and far beyond its threshold still waits
    for persistence."""
    verdict = decide(drift=measured(drifted_features=10, prediction_drifted=True, target_drifted=True,
                                    severity={"features": "breach", "prediction": "breach", "target": "breach"}))
    assert (verdict.status, verdict.breach, verdict.severe) == ("warn", True, False)


# --- performance: the label-free estimate -------------------------------------------------------------------

ESTIMATED = performance(value=None, labelled_rows=0, estimated_value=0.6,
                        estimated_method="CBPE: expected roc_auc from the probabilities of 2,000 rows")


@pytest.mark.parametrize(("estimate", "trusted", "breach"), [("warn", True, False), ("breach", True, True),
                                                             ("breach", False, False)])
def test_an_estimated_drop_breaches_only_when_opted_in_and_trusted(estimate: str, trusted: bool,
                                                                   breach: bool) -> None:
    """A label-free estimate beyond the allowance warns; with estimate: breach and calibrated probabilities it
    is a breach; with probabilities not calibrated enough it stays a warning and says why."""
    perf = replace(ESTIMATED, estimate_trusted=trusted)
    verdict = decide(config=model_config(estimate=estimate, min_labelled_rows=200), drift=measured(perf=perf),
                     history=(True, True))
    assert verdict.breach is breach
    estimated = [r for r in verdict.reasons if r.startswith("estimated concept drift")]
    assert estimated == [
        "estimated concept drift: roc_auc estimated 0.6 vs reference 0.72: drop 0.12 > allowed 0.05 "
        "(CBPE: expected roc_auc from the probabilities of 2,000 rows)"
        + ("; not a breach: the probabilities are not calibrated enough to trust" if not trusted else "")]


def test_the_estimate_is_ignored_when_off() -> None:
    """With estimate off (the default) an estimated drop is not a reason at all."""
    verdict = decide(drift=measured(perf=replace(ESTIMATED, value=0.71, labelled_rows=1234)))
    assert verdict.status == "ok"


def test_a_missing_estimate_is_a_note_that_says_why() -> None:
    """An estimate asked for but not made (no probabilities) is said, without making a clean window warn."""
    perf = performance(estimated_method="no label-free estimate: the window has no delay_proba values")
    verdict = decide(config=model_config(estimate="breach"), drift=measured(perf=perf))
    assert verdict.status == "ok"
    assert verdict.reasons[1] == ("performance not estimated: no label-free estimate: the window has no "
                                  "delay_proba values")


# --- ordering -----------------------------------------------------------------------------------------------

def test_reasons_lead_with_the_most_severe_signal() -> None:
    """Severe first, then the other breaches, the persistence count, the warnings and the notes."""
    perf = performance(value=0.5, reference=0.8, ci_low=0.47, ci_high=0.53)
    drift = measured(drifted_features=10, prediction_drifted=True, target_drifted=True, perf=perf,
                     severity={"prediction": "breach"}, control=CONTROL, notes=["a reference note"])
    verdict = decide(drift=drift, checks=validation(RAIN_WARNING), history=(False, True))
    assert verdict.status == "drift"
    assert [r.split(":")[0] for r in verdict.reasons] == [
        "severe concept drift", "prediction drift", "2 of the last 3 scheduled windows breached (drift needs 2)",
        "dataset drift (a warning)", "target drift (a warning)", "expect_column_values_to_be_between on precip failed",
        "false alarms across features", "a reference note"]
    assert verdict.drifted_columns == [*FEATURES, "delay_proba"]


# --- persistence ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("breaches", "of_last", "history", "status", "persistence_reason"), [
    (1, 1, (), "drift", "1 of the last 1 scheduled window breached (drift needs 1)"),
    (1, 1, (False, False, False), "drift", "1 of the last 1 scheduled window breached (drift needs 1)"),
    (1, 1, (True, True, True), "drift", "1 of the last 1 scheduled window breached (drift needs 1)"),
    (2, 3, (False, False), "warn", "1 of the last 3 scheduled windows breached; drift needs 2"),
    (2, 3, (True, False), "drift", "2 of the last 3 scheduled windows breached (drift needs 2)"),
    (2, 3, (False, True), "drift", "2 of the last 3 scheduled windows breached (drift needs 2)"),
    (2, 3, (True, True), "drift", "3 of the last 3 scheduled windows breached (drift needs 2)"),
    (2, 3, (True, False, False), "warn", "1 of the last 3 scheduled windows breached; drift needs 2"),
    (2, 3, (True, True, True, False, False), "warn", "1 of the last 3 scheduled windows breached; drift needs 2"),
    (3, 3, (True, False), "warn", "2 of the last 3 scheduled windows breached; drift needs 3"),
    (3, 3, (True, True), "drift", "3 of the last 3 scheduled windows breached (drift needs 3)"),
    (3, 3, (False, True, True), "drift", "3 of the last 3 scheduled windows breached (drift needs 3)"),
    (3, 3, (True, True, False, True), "warn", "2 of the last 3 scheduled windows breached; drift needs 3"),
])
def test_a_breach_is_drift_only_when_it_persists(breaches: int, of_last: int, history: tuple[bool, ...],
                                                 status: str, persistence_reason: str) -> None:
    """A breaching window is drift when it and the previous of_last - 1 scheduled windows hold at least
    `breaches` breaches, otherwise warn; older history is ignored. Either way the window is a breach."""
    verdict = decide(config=model_config(breaches=breaches, of_last=of_last), history=history,
                     drift=measured(prediction_drifted=True, severity=BREACH))
    assert verdict.status == status
    assert verdict.breach is True
    assert verdict.reasons == ["prediction drift: delay_proba 0.25 > 0.1, fixed", persistence_reason]


@pytest.mark.parametrize(("history", "status", "reason"), [
    ((None, True), "drift", "2 of the last 3 scheduled windows breached (1 without a record, counted as no "
                            "breach) (drift needs 2)"),
    ((True, None), "drift", "2 of the last 3 scheduled windows breached (1 without a record, counted as no "
                            "breach) (drift needs 2)"),
    ((None, None), "warn", "1 of the last 3 scheduled windows breached (2 without a record, counted as no "
                           "breach); drift needs 2"),
    ((), "warn", "1 of the last 3 scheduled windows breached (2 without a record, counted as no breach); "
                 "drift needs 2"),
    ((True,), "drift", "2 of the last 3 scheduled windows breached (1 without a record, counted as no "
                       "breach) (drift needs 2)"),
])
def test_persistence_counts_scheduled_windows_and_says_which_had_no_record(
        history: tuple[bool | None, ...], status: str, reason: str) -> None:
    """A scheduled window without a record (None) keeps its place among the last of_last windows and counts
    as no breach; the reason says how many had none, so a gap is not mistaken for calm."""
    verdict = decide(history=history, drift=measured(prediction_drifted=True, severity=BREACH))
    assert verdict.status == status
    assert verdict.reasons[1] == reason


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
    """A valid, large window whose drift was not measured warns rather than passing as ok, with its
    validation findings."""
    verdict = decide(drift=None, checks=validation(RAIN_WARNING))
    assert verdict.status == "warn"
    assert verdict.reasons[0] == "drift was not measured for this window"
    assert len(verdict.reasons) == 2


def test_warn_reasons_accompany_a_breach() -> None:
    """A breach also reports everything else worth a look after the persistence reason."""
    verdict = decide(drift=measured(prediction_drifted=True, drifted_features=1, severity=BREACH),
                     checks=validation(failed("expect_column_mean_to_be_between", "distance",
                                              severity="warning")), history=(False, False))
    assert verdict.status == "warn"
    assert verdict.reasons[1:] == [
        "1 of the last 3 scheduled windows breached; drift needs 2",
        "1 of 10 features drifted (share 0.1 < 0.3, not dataset drift): distance 0.25 > 0.1, fixed",
        "expect_column_mean_to_be_between on distance failed (warning)",
    ]
    assert verdict.drifted_columns == ["distance", "delay_proba"]
