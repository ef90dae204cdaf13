"""measure_drift on synthetic flights weeks: real Evidently runs, small data (about 1 s per run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tasks.config import DriftConfig, ModelConfig, load_model_config
from tasks.monitor.drift import DriftError, measure_drift
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
def reference() -> Reference:
    data = flights_batch(3000, seed=0)
    auc = roc_auc_score(data.arrived_late, data.delay_proba)
    return Reference(version="test", data=data, performance=auc)


def measure(config: ModelConfig, reference: Reference, current: pd.DataFrame, report_dir: Path,
            labelled: pd.DataFrame | None = None) -> DriftSummary:
    labelled = flights_batch(1500, seed=2) if labelled is None else labelled
    return measure_drift.fn(config, WindowData(WINDOW, current, labelled), reference, report_dir)


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


def test_the_html_reports_are_saved(warm_week: DriftSummary) -> None:
    """The feature report is saved as drift.html next to the target report, target.html."""
    assert warm_week.report_path is not None
    report = Path(warm_week.report_path)
    assert report.name == "drift.html" and report.stat().st_size > 100_000
    assert (report.parent / "target.html").is_file()


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


def test_a_constant_reference_column_is_skipped(awkward_week: DriftSummary) -> None:
    """A feature constant in the reference cannot be scored: it is skipped with an issue naming the value."""
    visib = column(awkward_week, "visib")
    assert visib.score is None and not visib.drifted
    assert visib.issue is not None and visib.issue.startswith("constant in the reference (10")


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


def test_shuffled_predictions_show_a_performance_drop(config: ModelConfig, reference: Reference,
                                                      tmp_path: Path, warm_week: DriftSummary) -> None:
    """Predictions shuffled against their labels lose ROC AUC: the drop exceeds the allowed 0.05."""
    labelled = flights_batch(1500, seed=2)
    labelled["delay_proba"] = np.random.default_rng(2).permutation(labelled["delay_proba"].to_numpy())
    summary = measure(config, reference, flights_batch(1500, seed=1), tmp_path, labelled)
    perf = summary.performance
    assert perf.metric == "roc_auc" and perf.labelled_rows == 1500
    assert perf.reference_value == reference.performance
    assert perf.drop is not None and perf.drop > config.performance.max_drop.value
    assert warm_week.performance.drop is not None and warm_week.performance.drop < config.performance.max_drop.value


def test_too_few_labelled_rows_leave_performance_and_target_unmeasured(
        config: ModelConfig, reference: Reference, tmp_path: Path) -> None:
    """With 100 labelled rows (fewer than 500) neither performance nor target drift is measured."""
    labelled = flights_batch(1500, seed=2)
    labelled.loc[100:, "arrived_late"] = np.nan  # not matured yet
    summary = measure(config, reference, flights_batch(1500, seed=1), tmp_path, labelled)
    assert summary.performance.value is None and summary.performance.labelled_rows == 100
    target = summary.of_kind("target")
    assert target is not None and target.score is None and target.issue == "too few labelled rows (100)"
    assert not (tmp_path / "target.html").exists()


def test_an_empty_window_is_an_error(config: ModelConfig, reference: Reference, tmp_path: Path) -> None:
    """An empty window raises DriftError instead of failing deep inside Evidently."""
    empty = flights_batch(10, seed=1).iloc[:0]
    with pytest.raises(DriftError, match="no rows to measure"):
        measure(config, reference, empty, tmp_path)
