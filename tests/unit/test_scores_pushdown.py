"""Drift scores from warehouse aggregates: exact for categories, within the stated bound for Wasserstein."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.errors import ConfigError
from tasks.monitor.profile import profile_categorical, profile_numeric
from tasks.monitor.scores import score_column
from tasks.monitor.scores_pushdown import certain, score_aggregate, stand_in
from tasks.source.pushdown import CategoryCounts, NumericBuckets, bucket_edges


def bucketed(name: str, values: np.ndarray, edges: np.ndarray) -> NumericBuckets:
    """What PostgreSQL's width_bucket(x, edges) and GROUP BY return for the finite values."""
    finite = values[np.isfinite(values)]
    index = np.searchsorted(edges, finite, side="right")  # the number of edges <= x: width_bucket's answer
    size = len(edges) + 1
    frame = pd.DataFrame({"b": index, "x": finite}).groupby("b")["x"].agg(["count", "sum", "min", "max"])
    counts, sums = np.zeros(size, dtype="int64"), np.zeros(size)
    lows, highs = np.full(size, np.nan), np.full(size, np.nan)
    counts[frame.index], sums[frame.index] = frame["count"], frame["sum"]
    lows[frame.index], highs[frame.index] = frame["min"], frame["max"]
    return NumericBuckets(name, edges, counts, sums, lows, highs, nulls=len(values) - len(finite))


CASES = {
    "normal, shifted 0.3 sd": (lambda r, n: r.normal(0, 1, n), lambda r, n: r.normal(0.3, 1, n)),
    "normal, unchanged": (lambda r, n: r.normal(0, 1, n), lambda r, n: r.normal(0, 1, n)),
    "log-normal, wider": (lambda r, n: r.lognormal(0, 1, n), lambda r, n: r.lognormal(0, 1.3, n)),
    "student t, heavy tails": (lambda r, n: r.standard_t(2, n), lambda r, n: r.standard_t(2, n) + 0.1),
    "integer hours": (lambda r, n: r.integers(5, 23, n).astype(float), lambda r, n: r.integers(7, 23, n).astype(float)),
    "window beyond the reference": (lambda r, n: r.normal(0, 1, n), lambda r, n: r.normal(6, 2, n)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("max_edges", [64, 4096])
def test_wasserstein_from_buckets_is_within_its_bound(case: str, max_edges: int) -> None:
    """The exact score (from the rows) lies within score ± error, for exact and sketched references."""
    rng = np.random.default_rng(7)
    make_reference, make_window = CASES[case]
    reference, window = make_reference(rng, 20_000), make_window(rng, 50_000)
    window[::97] = np.nan
    window[::101] = np.inf
    for profile in (profile_numeric("x", reference), profile_numeric("x", reference, exact_limit=100, sketch_size=500)):
        exact = score_column("wasserstein", profile, window, 0.1)
        found = score_aggregate("wasserstein", profile, bucketed("x", window, bucket_edges(profile, max_edges)), 0.1)
        assert found.rows == exact.rows  # NaN and infinities left out on both paths
        assert found.error is not None and abs(found.score - exact.score) <= found.error + 1e-12
        own = found.error - (profile.sketch_error.wasserstein if profile.sketch_error else 0.0)
        assert own <= 0.01 + 0.05 * exact.score or max_edges == 64  # the buckets' part: a bound that decides
        if certain(found):
            assert found.drifted == exact.drifted


def test_values_equal_to_the_edges_are_scored_exactly() -> None:
    """When the window holds only values the reference holds (integers), every bucket is one value: no error."""
    rng = np.random.default_rng(3)
    profile = profile_numeric("hour", rng.integers(5, 23, 5_000).astype(float))
    window = rng.integers(5, 23, 8_000).astype(float)
    found = score_aggregate("wasserstein", profile, bucketed("hour", window, bucket_edges(profile)), 0.1)
    assert found.error == 0.0
    assert found.score == pytest.approx(score_column("wasserstein", profile, window, 0.1).score, rel=1e-12)


def test_stand_in_bound_is_the_largest_deviation_a_bucket_allows() -> None:
    """Two values at a bucket's ends are as far from their mean as values in that range can be."""
    buckets = bucketed("x", np.array([0.0, 1.0, 5.0]), np.array([2.0]))
    means, counts, bound = stand_in(buckets, profile_numeric("x", np.array([0.5, 3.0])))
    assert means.tolist() == [0.5, 5.0] and counts.tolist() == [2, 1]
    assert bound == pytest.approx((2 * 0.5) / 3)  # bucket 0: mean deviation 0.5 for 2 of 3 values


@pytest.mark.parametrize("chosen", ["jensenshannon", "psi", "kl_div", "hellinger", "chisquare", "z", "g_test"])
def test_categorical_scores_from_counts_equal_the_rows(chosen: str) -> None:
    reference = pd.Series(["a"] * 500 + ["b"] * 300 + ["c"] * 200)
    window = pd.Series(["a"] * 200 + ["b"] * 300 + ["c"] * 450 + ["d"] * 50 + [None] * 20)
    profile = profile_categorical("c", reference)
    counts = window.dropna().value_counts().to_dict()
    found = score_aggregate(chosen, profile, CategoryCounts("c", counts, nulls=20), 0.1)
    exact = score_column(chosen, profile, window, 0.1)
    assert found.score == exact.score and found.drifted == exact.drifted


def test_numeric_methods_that_need_the_rows_are_refused_by_name() -> None:
    profile = profile_numeric("x", np.arange(100.0))
    with pytest.raises(ConfigError, match=r"'x'.*wasserstein, not ks"):
        score_aggregate("ks", profile, bucketed("x", np.arange(50.0), bucket_edges(profile)), 0.05)
