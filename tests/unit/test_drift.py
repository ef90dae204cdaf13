"""measure_drift on synthetic flights weeks: scored against the reference profile, small data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tasks.config import DriftConfig, ModelConfig, load_model_config
from tasks.monitor.drift import DriftError, measure_window
from tasks.monitor.window_report import render_window_report
from tasks.registry.profiles import profile_reference
from tasks.results import ColumnDrift, DriftSummary, Reference, Window, WindowData
from tests.factories import flights_batch

START = datetime(2013, 1, 14, tzinfo=UTC)
WINDOW = Window(start=START, end=START + timedelta(days=7),
                labelled_start=START - timedelta(days=2), labelled_end=START + timedelta(days=5))


@pytest.fixture(scope="module")
def config() -> ModelConfig:
    """The demo model with one drift setting for every column but precip (psi, 0.2)."""
    shipped = load_model_config("flights-delay")
    drift = DriftConfig(threshold=0.1, dataset_share=0.3,
                        per_column={"precip": {"method": "psi", "threshold": 0.2}})  # type: ignore[dict-item]
    return shipped.model_copy(update={"drift": drift})


@pytest.fixture(scope="module")
def reference(config: ModelConfig) -> Reference:
    data = flights_batch(3000, seed=0)
    auc = roc_auc_score(data.arrived_late, data.delay_proba)
    return profiled(config, Reference(version="test", data=data, performance=auc))


def profiled(config: ModelConfig, reference: Reference) -> Reference:
    """The reference with the profile its version stores (calibrated from its own weeks)."""
    ts = reference.data[config.source.timestamp]
    profile = profile_reference(config, reference.data, ts.min().to_pydatetime(),
                                ts.max().to_pydatetime() + timedelta(seconds=1))
    return replace(reference, profile=profile, calibration=profile.calibration)


def measure(config: ModelConfig, reference: Reference, current: pd.DataFrame, report_dir: Path,
            labelled: pd.DataFrame | None = None) -> DriftSummary:
    labelled = flights_batch(1500, seed=2) if labelled is None else labelled
    if reference.profile is None:
        reference = profiled(config, reference)
    return measure_window(config, WindowData(WINDOW, current, labelled), reference)


@pytest.fixture(scope="module")
def warm_week(config: ModelConfig, reference: Reference,
              tmp_path_factory: pytest.TempPathFactory) -> DriftSummary:
    return measure(config, reference, flights_batch(1500, seed=1, temp_shift=25),
                   tmp_path_factory.mktemp("warm"))


@pytest.fixture(scope="module")
def awkward_week(config: ModelConfig, reference: Reference,
                 tmp_path_factory: pytest.TempPathFactory) -> DriftSummary:
    """One window with every awkward column at once (each test below looks at one of them)."""
    current = flights_batch(1500, seed=1)
    current["temp"] = np.nan  # all null in the window
    current = current.drop(columns="humid")  # missing from the window
    current["dep_hour"] = 12.0  # constant in the window, varied in the reference
    current.loc[:11, "carrier"] = "ZZ"  # 12 rows of a carrier the reference never saw
    current.loc[12:14, "dest"] = ["XXA", "XXB", "XXC"]
    current.loc[::3, "wind_speed"] = np.nan  # partly null: still measured
    data = reference.data.copy()
    data["visib"] = 10.0  # constant in the reference
    return measure(config, Reference("constant-visib", data, reference.performance), current,
                   tmp_path_factory.mktemp("awkward"))


def column(summary: DriftSummary, name: str) -> ColumnDrift:
    return next(c for c in summary.columns if c.column == name)


def test_an_unshifted_week_flags_no_feature(config: ModelConfig, reference: Reference,
                                            tmp_path: Path) -> None:
    """A week drawn from the reference's distribution flags no feature and has a drift share of 0."""
    summary = measure(config, reference, flights_batch(1500, seed=1), tmp_path)
    assert summary.drifted_features == []
    assert summary.drift_share == 0.0
    assert all(c.score is not None and c.issue is None for c in summary.columns)


def test_a_warmer_week_flags_temp_and_nothing_else(warm_week: DriftSummary) -> None:
    """A 25 °F warmer week flags temp as drifted, with a score above its threshold, and no other feature."""
    temp = column(warm_week, "temp")
    assert temp.drifted and temp.score is not None and temp.score > temp.threshold
    assert [c.column for c in warm_week.drifted_features] == ["temp"]
    assert warm_week.drift_share == pytest.approx(1 / 10)


def test_prediction_and_target_follow_the_features(warm_week: DriftSummary) -> None:
    """The columns list the ten features, then the prediction, then the target, each with a score."""
    kinds = [c.kind for c in warm_week.columns]
    assert kinds == ["numeric"] * 7 + ["categorical"] * 3 + ["prediction", "target"]
    prediction, target = warm_week.of_kind("prediction"), warm_week.of_kind("target")
    assert prediction is not None and prediction.column == "delay_proba"
    assert prediction.method == "wasserstein"
    assert prediction.drifted  # the model's probabilities react to the warmer week
    assert target is not None and target.column == "arrived_late" and target.method == "jensenshannon"
    assert target.score is not None and not target.drifted


def test_methods_are_pinned_per_column(warm_week: DriftSummary) -> None:
    """Evidently used precip's override (psi, 0.2) and the configured defaults everywhere else."""
    used = {c.column: (c.method, c.threshold) for c in warm_week.columns}
    assert used["precip"] == ("psi", 0.2)
    assert used["temp"] == ("wasserstein", 0.1)
    assert used["carrier"] == ("jensenshannon", 0.1)


def test_a_p_value_method_drifts_below_its_threshold(config: ModelConfig, reference: Reference,
                                                     tmp_path: Path) -> None:
    """With temp pinned to KS at 0.05, a warmer week drifts because its p-value falls below 0.05."""
    drift = DriftConfig.model_validate({**config.drift.model_dump(),
                                        "per_column": {"temp": {"method": "ks", "threshold": 0.05}}})
    summary = measure(config.model_copy(update={"drift": drift}), reference,
                      flights_batch(1500, seed=1, temp_shift=25), tmp_path)
    temp, humid = column(summary, "temp"), column(summary, "humid")
    assert temp.method == "ks" and temp.score is not None and temp.score < 0.05 and temp.drifted
    assert not humid.drifted


def test_the_html_report_is_a_bounded_sample_that_shares_its_javascript(
        config: ModelConfig, reference: Reference, warm_week: DriftSummary, tmp_path: Path) -> None:
    """The report says which sample it shows, uses the thresholds of the verdict, and links the shared bundle."""
    data = WindowData(WINDOW, flights_batch(1500, seed=1, temp_shift=25), flights_batch(1500, seed=2))
    path = tmp_path / "reports" / "m" / "w" / "drift.html"
    written = render_window_report.fn(config, data, reference, warm_week, path, tmp_path / "reports", max_rows=500)
    page = Path(str(written)).read_text()
    assert "sample of 500 of 1,500 window rows and 500 of 3,000 reference rows" in page
    assert '<script src="../../_assets/' in page and len(page) < 1_000_000
    assert len(list((tmp_path / "reports" / "_assets").glob("*.js"))) == 1


def test_a_report_of_many_columns_shows_the_prediction_and_those_nearest_their_thresholds(
        config: ModelConfig, reference: Reference, warm_week: DriftSummary, tmp_path: Path) -> None:
    """Rendering costs per column: with `max_columns` the report keeps the prediction, the drifted features and
    then those whose score is nearest their threshold, in the summary's order, and says what it left out."""
    from tasks.monitor.window_report import shown_columns

    scored = [c for c in warm_week.columns if c.score is not None and c.kind != "target"]
    assert shown_columns(warm_week, None) == scored == shown_columns(warm_week, len(scored))
    three = shown_columns(warm_week, 3)
    closest = max((c for c in scored if c.kind != "prediction" and c.column != "temp"),
                  key=lambda c: (c.drifted, (c.score or 0) / c.threshold))
    assert {c.column for c in three} == {"delay_proba", "temp", closest.column}
    assert three == [c for c in scored if c in three]  # the summary's order
    data = WindowData(WINDOW, flights_batch(1500, seed=1, temp_shift=25), flights_batch(1500, seed=2))
    path = tmp_path / "reports" / "m" / "w" / "drift.html"
    written = render_window_report.fn(config, data, reference, warm_week, path, tmp_path / "reports", max_rows=500,
                                      max_columns=3)
    assert f"Shown: the 3 of {len(scored)} scored columns that drifted or are nearest their thresholds" in \
        Path(str(written)).read_text()


def test_an_all_null_column_is_reported_not_measured(awkward_week: DriftSummary) -> None:
    """A feature with no values in the window gets an issue and no score; the others are still measured."""
    temp = column(awkward_week, "temp")
    assert temp.score is None and not temp.drifted
    assert temp.issue == "no values in this window (all null)"
    assert column(awkward_week, "wind_speed").score is not None  # partly null is fine


def test_a_missing_column_is_reported(awkward_week: DriftSummary) -> None:
    """A feature absent from the window is reported as missing, with no score."""
    humid = column(awkward_week, "humid")
    assert humid.score is None and humid.issue == "missing from this window"


def test_a_constant_reference_column_is_a_note_not_a_warning(awkward_week: DriftSummary) -> None:
    """A feature constant in the reference cannot be scored: one note naming the value, no issue to warn on."""
    visib = column(awkward_week, "visib")
    assert visib.score is None and not visib.drifted and visib.issue is None
    assert visib.note is not None and visib.note.startswith("constant in the reference (10")
    assert any(n.startswith("visib: constant in the reference") for n in awkward_week.notes)


def test_a_constant_window_column_is_drift(awkward_week: DriftSummary) -> None:
    """A feature stuck at one value in the window (but varied in the reference) is measured and drifts."""
    dep_hour = column(awkward_week, "dep_hour")
    assert dep_hour.score is not None and dep_hour.drifted
    assert dep_hour.issue == "constant in this window (12.0)"


def test_unseen_categories_are_named(awkward_week: DriftSummary) -> None:
    """Unseen categories are measured and named; under 1% of rows they are a note, from 1% an issue."""
    carrier, dest = column(awkward_week, "carrier"), column(awkward_week, "dest")
    assert carrier.score is not None
    assert carrier.note == "12 rows with values not in the reference: ZZ" and carrier.issue is None
    assert dest.note == "3 rows with values not in the reference: XXA, XXB, XXC"


def test_unmeasured_features_do_not_count_in_the_share(awkward_week: DriftSummary) -> None:
    """The drift share counts measured features only: 1 drifted (dep_hour) of the 7 measured."""
    measured = [c.column for c in awkward_week.features if c.score is not None]
    assert measured == ["distance", "dep_hour", "wind_speed", "precip", "carrier", "origin", "dest"]
    assert [c.column for c in awkward_week.drifted_features] == ["dep_hour"]
    assert awkward_week.drift_share == pytest.approx(1 / 7)


def test_arrow_and_nullable_dtypes_give_the_same_scores(config: ModelConfig, reference: Reference,
                                                        tmp_path: Path, warm_week: DriftSummary) -> None:
    """A window read with pyarrow-backed dtypes scores exactly like the same window in numpy dtypes."""
    current = flights_batch(1500, seed=1, temp_shift=25).convert_dtypes(dtype_backend="pyarrow")
    summary = measure(config, reference, current, tmp_path)
    assert [c.score for c in summary.columns[:-1]] == pytest.approx([c.score for c in warm_week.columns[:-1]])


def test_lost_skill_shows_a_performance_drop_beyond_noise(config: ModelConfig, reference: Reference,
                                                          tmp_path: Path, warm_week: DriftSummary) -> None:
    """Delays that follow another relationship cost the model its ROC AUC: even the interval's best case is
    beyond the model's allowance (its fixed 0.05), while a warmer week's drop stays inside it."""
    labelled = flights_batch(1500, seed=2, concept_shift=True)
    summary = measure(config, reference, flights_batch(1500, seed=1), tmp_path, labelled)
    perf = summary.performance
    assert perf.metric == "roc_auc" and perf.labelled_rows == 1500
    assert perf.reference_value == reference.performance
    assert perf.drop is not None and perf.allowance is not None and perf.drop > perf.allowance
    assert perf.ci_high is not None and reference.performance is not None
    assert reference.performance - perf.ci_high > perf.allowance  # the drop is beyond noise: a breach
    assert warm_week.performance.drop is not None and warm_week.performance.drop < perf.allowance


def test_too_few_labelled_rows_leave_performance_and_target_unmeasured(
        config: ModelConfig, reference: Reference, tmp_path: Path) -> None:
    """With 100 labelled rows (fewer than 500) neither performance nor target drift is measured."""
    labelled = flights_batch(1500, seed=2)
    labelled.loc[100:, "arrived_late"] = np.nan  # not matured yet
    summary = measure(config, reference, flights_batch(1500, seed=1), tmp_path, labelled)
    assert summary.performance.value is None and summary.performance.labelled_rows == 100
    target = summary.of_kind("target")
    assert target is not None and target.score is None and target.issue == "too few labelled rows (100)"


def test_an_empty_window_is_an_error(config: ModelConfig, reference: Reference, tmp_path: Path) -> None:
    """An empty window raises DriftError instead of failing deep inside the scoring."""
    empty = flights_batch(10, seed=1).iloc[:0]
    with pytest.raises(DriftError, match="no rows to measure"):
        measure(config, reference, empty, tmp_path)


@pytest.fixture(scope="module")
def calibrated() -> tuple[ModelConfig, Reference]:
    """The shipped defaults (thresholds learned from the reference) on an eight-week reference."""
    shipped = load_model_config("flights-delay")
    config = shipped.model_copy(update={"drift": DriftConfig()})
    data = flights_batch(16_000, seed=0, start=datetime(2012, 11, 12, tzinfo=UTC), days=56)
    auc = roc_auc_score(data.arrived_late, data.delay_proba)
    return config, profiled(config, Reference(version="eight-weeks", data=data, performance=auc))


def test_calibrated_thresholds_say_where_they_come_from(calibrated: tuple[ModelConfig, Reference]) -> None:
    """Each column's threshold is the p99 band of the reference's weekly chunks, with a tail probability."""
    config, reference = calibrated
    summary = measure(config, reference, flights_batch(2000, seed=1), Path("."))
    temp = column(summary, "temp")
    assert temp.threshold_source == "the p99 of 7 reference chunks"  # whole scheduled weeks (Monday 06:00) inside it
    assert temp.p_value is not None and 0 < temp.p_value <= 1
    assert summary.drifted_features == []
    assert summary.false_alarm_control == "Benjamini–Hochberg at FDR 0.05 across 10 features"


def test_a_calibrated_warm_week_flags_temp_only(calibrated: tuple[ModelConfig, Reference]) -> None:
    """A 25 °F warmer week is far outside temp's band and survives the control; nothing else is flagged."""
    config, reference = calibrated
    summary = measure(config, reference, flights_batch(2000, seed=1, temp_shift=25), Path("."))
    assert [c.column for c in summary.drifted_features] == ["temp"]
    temp = column(summary, "temp")
    assert temp.score is not None and temp.score > temp.threshold and temp.severity == "warn"
