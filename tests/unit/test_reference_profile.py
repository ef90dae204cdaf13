"""Reference profiles: exact below the size limit, a sketch with a tested bound above it, bytes both ways."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tasks.errors import DataError
from tasks.monitor.profile import NumericProfile, ReferenceProfile, build_profile, profile_numeric
from tasks.monitor.scores import ColumnScore, score_column
from tasks.monitor.scores_numeric import Pair, binned_shares

rng = np.random.default_rng(7)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    rows = 5000
    frame = pd.DataFrame({
        "temp": rng.normal(20, 5, rows),
        "dep_hour": rng.integers(5, 23, rows).astype(float),
        "carrier": rng.choice(["UA", "DL", "AA"], rows),
        "arrived_late": rng.choice([0.0, 1.0, np.nan], rows),
        "visib": np.full(rows, 10.0),
    })
    frame.loc[::10, "temp"] = np.nan
    return frame


def test_a_profile_keeps_what_every_method_needs(reference: pd.DataFrame) -> None:
    """Counts, nulls, mean, std (ddof 0), min, max, distinct values and the constant flag, exactly."""
    profile = build_profile(reference, ["temp", "dep_hour", "visib"], ["carrier", "arrived_late"])
    temp = profile["temp"]
    assert isinstance(temp, NumericProfile) and temp.exact
    values = reference.temp.dropna()
    assert (temp.rows, temp.nulls) == (len(values), 500)
    assert temp.mean == pytest.approx(values.mean()) and temp.std == pytest.approx(np.std(values.to_numpy()))
    assert (temp.min, temp.max) == (values.min(), values.max())
    assert np.array_equal(np.repeat(temp.values, temp.counts), np.sort(values.to_numpy()))
    assert profile["dep_hour"].distinct == 18 and not profile["dep_hour"].constant
    assert profile["visib"].constant
    late = profile["arrived_late"]
    assert late.nulls == int(reference.arrived_late.isna().sum()) and set(late.categories) == {"0", "1"}


def test_a_profile_round_trips_through_bytes_without_pickle(reference: pd.DataFrame) -> None:
    """to_bytes/from_bytes keep every column, sketch bounds and the calibration; the bytes load with
    pickling disabled, and anything else is refused with a DataError."""
    big = pd.DataFrame({"wide": rng.normal(size=30_000)})
    exact = build_profile(reference, ["temp", "dep_hour", "visib"], ["carrier", "arrived_late"])
    sketched = build_profile(big, ["wide"], [], exact_limit=1000, sketch_size=500)
    for profile in (exact.with_calibration({"band": "p99", "bands": {}}), sketched):
        data = profile.to_bytes()
        np.load(io.BytesIO(data), allow_pickle=False)  # would raise if any array needed pickle
        back = ReferenceProfile.from_bytes(data)
        assert back.rows == profile.rows and back.calibration == profile.calibration
        assert back.columns.keys() == profile.columns.keys()
        for name, column in profile.columns.items():
            restored = back[name]
            assert {k: v for k, v in vars(restored).items() if not isinstance(v, np.ndarray)} == \
                {k: v for k, v in vars(column).items() if not isinstance(v, np.ndarray)}
            for key, value in vars(column).items():
                if isinstance(value, np.ndarray):
                    assert np.array_equal(getattr(restored, key), value)
    assert len(sketched.to_bytes()) < 20_000  # 30,000 values kept as 500 quantiles
    with pytest.raises(DataError, match="not a reference profile"):
        ReferenceProfile.from_bytes(b"not a profile")


def test_a_numeric_reference_holding_text_is_a_data_error() -> None:
    with pytest.raises(DataError, match="'temp' should be numeric"):
        profile_numeric("temp", pd.Series(["1.5", "n/a"]))


def test_the_sketch_error_bound_holds_on_large_data() -> None:
    """Above the exact limit a sketch of K quantiles is within 1/K of the reference's CDF, the
    Wasserstein, KS and energy scores of windows stay within the bounds the profile states, and each
    histogram bin's reference share within twice the CDF bound."""
    rows, size = 200_000, 2000
    reference = np.r_[np.zeros(rows // 2), rng.lognormal(0, 1, rows // 2)]  # heavy tie at 0 plus a long tail
    sketch = profile_numeric("precip", reference, exact_limit=10_000, sketch_size=size)
    assert not sketch.exact and sketch.sketch_error is not None
    assert sketch.sketch_error.ks <= 1 / size
    for shift in (0.0, 0.05, 0.5):
        window = np.r_[np.zeros(20_000), rng.lognormal(shift, 1, 15_000)]
        for method, exact in (
                ("wasserstein", stats.wasserstein_distance(reference, window) / np.std(reference)),
                ("ed", stats.energy_distance(reference, window)),
                ("ks", stats.ks_2samp(reference, window).pvalue)):
            result = score_column(method, sketch, window, 0.1)
            assert isinstance(result, ColumnScore) and result.error is not None
            assert abs(result.score - exact) <= result.error + 1e-12, (method, shift)
        # binned methods: every bin's reference share is within 2·ks of the exact share
        full = profile_numeric("precip", reference)
        ordered = np.sort(window)
        approximate, _ = binned_shares(Pair(sketch, ordered), fill_zeroes=False)
        exact_shares, _ = binned_shares(Pair(full, ordered), fill_zeroes=False)
        assert np.abs(approximate - exact_shares).max() <= 2 * sketch.sketch_error.ks
