"""Bands learned from the reference's own window-sized chunks (seeded data, loose statistical bounds)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tasks.config import load_model_config
from tasks.config.sections import CalibrationConfig
from tasks.config.types import parse_span
from tasks.monitor.calibrate import (
    Calibration,
    Statistic,
    calibrate,
    fit_band,
    row_chunks,
    statistics_for,
    time_chunks,
)
from tasks.monitor.profile import ReferenceProfile, build_profile, profile_column
from tasks.monitor.scores import ColumnScore, score_column

WEEK = timedelta(days=7)
PER_DAY = 100
STATISTICS = [Statistic("a", "numeric", "wasserstein"), Statistic("b", "numeric", "ks"),
              Statistic("c", "categorical", "jensenshannon"), Statistic("d", "numeric", "psi")]


def stationary(days: int, seed: int, start: datetime = datetime(2024, 1, 1)) -> pd.DataFrame:
    """`days` of rows from one unchanging distribution, PER_DAY rows a day."""
    rng = np.random.default_rng(seed)
    rows = days * PER_DAY
    seconds = np.sort(rng.integers(0, days * 86400, rows))
    return pd.DataFrame({
        "ts": pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s"),
        "a": rng.normal(0, 1, rows), "b": rng.exponential(1, rows),
        "c": rng.choice(list("abcdef"), rows), "d": rng.gamma(2, 1, rows),
    })


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return stationary(40 * 7, seed=0)


@pytest.fixture(scope="module")
def calibration(reference: pd.DataFrame) -> Calibration:
    return calibrate(reference, STATISTICS, CalibrationConfig(band="p99"), timestamp="ts", window=WEEK,
                     start=datetime(2024, 1, 1), end=datetime(2024, 1, 1) + 40 * WEEK)


def test_chunks_are_whole_windows_counted_back_from_the_end() -> None:
    """Time chunks are window-long, end at the reference's end, and a partial chunk at the start is
    dropped; row chunks likewise count back from the last row."""
    moments = pd.Series(pd.to_datetime(["2024-01-01 05:00", "2024-01-20 00:00", "2024-01-31 23:00"]))
    chunks = time_chunks(moments, WEEK, end=datetime(2024, 2, 1))
    assert [c[0].day for c in chunks] == [4, 11, 18, 25] and chunks[-1][1] == datetime(2024, 2, 1)
    months = time_chunks(moments.dt.tz_localize("UTC"), parse_span("1mo"),
                         start=datetime(2023, 11, 1, tzinfo=UTC), end=datetime(2024, 2, 1, tzinfo=UTC))
    assert [(a.month, b.month) for a, b in months] == [(11, 12), (12, 1), (1, 2)]
    assert row_chunks(10, 3) == [(1, 4), (4, 7), (7, 10)]


def test_a_stationary_reference_gives_about_one_percent_exceedances_at_p99(
        reference: pd.DataFrame, calibration: Calibration) -> None:
    """Fresh windows from the same distribution fall outside the p99 band about 1 % of the time (over
    four statistics and 150 windows: between 0 and 3 %)."""
    assert {b.chunks for b in calibration.bands.values()} == {40}
    profile = build_profile(reference, ["a", "b", "d"], ["c"])
    rng_windows = [stationary(7, seed=100 + i) for i in range(150)]
    outside = [calibration[s.column].beyond(score_column(s.method, profile[s.column], w[s.column], 0.1).score)
               for w in rng_windows for s in STATISTICS]  # type: ignore[union-attr]
    assert 0 < np.mean(outside) <= 0.03
    p_values = [calibration["a"].tail_probability(score_column("wasserstein", profile["a"], w.a, 0.1).score)
                for w in rng_windows]  # type: ignore[union-attr]
    assert 0.3 < np.median(p_values) < 0.7  # tail probabilities of unchanged windows are roughly uniform


def test_a_shifted_window_gets_a_tiny_tail_probability(reference: pd.DataFrame, calibration: Calibration) -> None:
    """A window whose mean moved by half a standard deviation is far outside its band."""
    profile = build_profile(reference, ["a", "b"], [])
    window = stationary(7, seed=999)
    shifted = score_column("wasserstein", profile["a"], window.a + 0.5, 0.1)
    assert isinstance(shifted, ColumnScore)
    band = calibration["a"]
    assert band.beyond(shifted.score) and band.tail_probability(shifted.score) < 1e-4  # type: ignore[operator]
    # p-values: smaller is more drift, and the band's threshold is a p-value below which a window alarms
    ks = score_column("ks", profile["b"], window.b * 1.3, 0.05)
    assert isinstance(ks, ColumnScore)
    assert calibration["b"].sign == "<" and ks.score < calibration["b"].threshold  # type: ignore[operator]
    assert calibration["b"].tail_probability(ks.score) < 1e-4  # type: ignore[operator]


def test_each_chunk_is_scored_against_the_reference_without_it(reference: pd.DataFrame,
                                                              calibration: Calibration) -> None:
    """Leave-one-out: a chunk's score is the window score against the other chunks' rows; scored against
    data that contains it, every chunk would look closer than a window can."""
    first = (reference.ts >= datetime(2024, 1, 1)) & (reference.ts < datetime(2024, 1, 8))
    rest = profile_column("a", "numeric", reference.a[~first])
    expected = score_column("wasserstein", rest, reference.a[first], 0.1)
    assert isinstance(expected, ColumnScore)
    assert calibration["a"].chunk_scores[0] == pytest.approx(expected.score, rel=1e-12)
    whole = profile_column("a", "numeric", reference.a)
    in_sample = score_column("wasserstein", whole, reference.a[first], 0.1)
    assert isinstance(in_sample, ColumnScore) and in_sample.score < expected.score


def test_too_few_chunks_fall_back_to_the_fixed_threshold_with_a_note() -> None:
    """Three weeks of reference for weekly windows cannot calibrate with min_chunks 4: no band, a note."""
    short = stationary(3 * 7, seed=3)
    calibration = calibrate(short, STATISTICS[:1], CalibrationConfig(min_chunks=4), timestamp="ts", window=WEEK,
                            start=datetime(2024, 1, 1), end=datetime(2024, 1, 22))
    band = calibration["a"]
    assert band.threshold is None and band.tail_probability(0.5) is None and band.beyond(0.5) is None
    assert band.note == "only 3 reference chunks of 7d by time could be scored; calibration needs 4"
    assert band.source.startswith("fixed (only 3 reference chunks")


def test_the_band_widens_as_chunks_get_fewer() -> None:
    """With the same mean and spread of log scores, fewer chunks give a higher p99 threshold."""
    def band_of(count: int) -> float:
        logs = stats.norm.ppf((np.arange(count) + 0.5) / count)
        logs = (logs - logs.mean()) / logs.std(ddof=1) * 0.3 - 3  # mean -3, sd 0.3 exactly
        band = fit_band("a", "wasserstein", "higher", np.exp(logs).tolist(), "p99", 4)
        assert band.center == pytest.approx(-3) and band.spread == pytest.approx(0.3)
        return band.threshold  # type: ignore[return-value]

    thresholds = [band_of(n) for n in (60, 24, 10, 5)]
    assert thresholds == sorted(thresholds)
    assert thresholds[0] == pytest.approx(math.exp(-3 + 0.3 * stats.t.ppf(0.99, 59) * math.sqrt(1 + 1 / 60)))


def test_sigma_bands_and_sources_name_where_the_threshold_came_from(reference: pd.DataFrame,
                                                                    calibration: Calibration) -> None:
    """'3sigma' is mean + 3 sd (widened for the chunk count); every band names its source for reasons."""
    three = calibrate(reference, STATISTICS[:1], CalibrationConfig(band="3sigma"), timestamp="ts", window=WEEK,
                      start=datetime(2024, 1, 1), end=datetime(2024, 1, 1) + 40 * WEEK)
    p99 = calibration
    assert three["a"].source == "mean + 3 sd of 40 reference chunks"
    assert p99["a"].source == "the p99 of 40 reference chunks"
    assert three["a"].threshold > p99["a"].threshold  # type: ignore[operator]


def test_the_target_uses_only_chunks_with_enough_labelled_rows() -> None:
    """A target statistic skips chunks whose labelled rows are fewer than its minimum."""
    frame = stationary(10 * 7, seed=4)
    frame["late"] = np.where(np.random.default_rng(4).random(len(frame)) < 0.3, "1", "0")
    frame.loc[frame.ts < datetime(2024, 1, 22), "late"] = None  # labels of the first three weeks missing
    target = Statistic("late", "categorical", "jensenshannon", min_rows=200)
    calibration = calibrate(frame, [target], CalibrationConfig(), timestamp="ts", window=WEEK)
    assert calibration["late"].chunks == 7


def test_rows_chunks_and_serialisation_with_the_profile(reference: pd.DataFrame) -> None:
    """Chunks by rows use the window's row count; the calibration survives the profile's bytes."""
    calibration = calibrate(reference, STATISTICS, CalibrationConfig(chunks="rows"), timestamp="ts",
                            window_rows=1400)
    assert calibration.chunking == "1,400 rows" and len(calibration.chunks) == 20
    profile = build_profile(reference, ["a", "b", "d"], ["c"]).with_calibration(calibration.to_dict())
    restored = Calibration.from_dict(ReferenceProfile.from_bytes(profile.to_bytes()).calibration or {})
    assert restored == calibration
    assert restored["b"].tail_probability(0.001) == calibration["b"].tail_probability(0.001)


def test_a_model_calibrates_every_column_without_a_fixed_threshold() -> None:
    """The demo model (no fixed thresholds) calibrates every drift feature, the prediction and the target, the
    target with the model's minimum of labelled rows per chunk; a fixed threshold takes a column out."""
    shipped = load_model_config("flights-delay")
    statistics = {s.column: s for s in statistics_for(shipped, numeric_prediction=True)}
    assert set(statistics) == {*shipped.columns.drift_features, "delay_proba", "arrived_late"}
    assert statistics["carrier"] == Statistic("carrier", "categorical", "jensenshannon")
    assert statistics["arrived_late"] == Statistic("arrived_late", "categorical", "jensenshannon", 500)
    pinned = shipped.model_copy(update={"drift": shipped.drift.model_copy(update={"threshold": 0.1})})
    assert statistics_for(pinned, numeric_prediction=True) == []  # drift.threshold fixes every column
