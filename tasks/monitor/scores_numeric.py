"""Numeric drift scores from a reference profile, computed as Evidently 0.7.23's stattests compute them.

Each method takes a `Pair` (the column's `NumericProfile` and the window's sorted finite values) and
returns the score Evidently's `ValueDrift` reports (the decision is made in `tasks.monitor.scores`). The
reference is never re-sorted: Wasserstein walks both quantile functions in one linear pass; KS, energy
distance and the rank tests (`tasks.monitor.scores_rank`) read the merge of the reference's distinct values
with the window (`Pooled`); the binned methods count both sides in Evidently's Sturges bins.

With an exact profile every score equals Evidently's up to floating-point summation order. With a sketch
the reference is known to within `SketchError.ks` in CDF: Wasserstein, KS and energy distance carry a
proven bound, the t-test stays exact, and the binned and rank methods are approximate (each bin share
within 2·ks, each rank within ks·rows).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats
from scipy.spatial import distance

if TYPE_CHECKING:
    from tasks.monitor.profile import NumericProfile

BINNED_DISTINCT = 20  # Evidently bins a numeric reference with more distinct values than this (Sturges)
KS_EXACT_ROWS = 10_000  # scipy's ks_2samp is exact up to this many rows on either side


def cdf_distances(ref_values: np.ndarray, ref_weights: np.ndarray, cur_values: np.ndarray,
                  cur_weights: np.ndarray | None = None) -> tuple[float, float]:
    """Wasserstein-1 (not normalised) and energy distance between two weighted sorted samples."""
    pooled = Pooled(ref_values, ref_weights, cur_values, cur_weights)
    return pooled.wasserstein, pooled.energy


class Pooled:
    """Reference (sorted values with weights) merged with the window (sorted values) in one order."""

    def __init__(self, ref_values: np.ndarray, ref_weights: np.ndarray, cur_values: np.ndarray,
                 cur_weights: np.ndarray | None = None) -> None:
        both = np.concatenate([ref_values, cur_values])
        order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
        self.values = both[order]
        cur_w = np.ones(len(cur_values), dtype="int64") if cur_weights is None else cur_weights
        # integer counts stay integers so the CDFs equal scipy's searchsorted(...)/n exactly
        self.ref_w = np.concatenate([ref_weights, np.zeros(len(cur_values), dtype=ref_weights.dtype)])[order]
        self.cur_w = np.concatenate([np.zeros(len(ref_values), dtype=cur_w.dtype), cur_w])[order]
        self.n, self.m = float(ref_weights.sum()), float(cur_w.sum())
        self.cdf_ref, self.cdf_cur = np.cumsum(self.ref_w) / self.n, np.cumsum(self.cur_w) / self.m

    @cached_property
    def gap(self) -> np.ndarray:
        """|F_ref - F_cur| on each interval between consecutive pooled values."""
        return np.abs(self.cdf_ref[:-1] - self.cdf_cur[:-1])

    @property
    def wasserstein(self) -> float:
        return float(np.sum(self.gap * np.diff(self.values)))

    @property
    def energy(self) -> float:
        return float(math.sqrt(2) * math.sqrt(np.sum(self.gap**2 * np.diff(self.values))))

    @property
    def ks(self) -> float:
        """The KS statistic: largest CDF gap, read after the last copy of each tied value."""
        last = np.r_[self.values[1:] != self.values[:-1], True]
        return float(np.max(np.abs(self.cdf_ref[last] - self.cdf_cur[last])))

    @cached_property
    def ties(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per distinct pooled value: reference weight, window count, and pooled count below it."""
        starts = np.flatnonzero(np.r_[True, self.values[1:] != self.values[:-1]])
        ref = np.add.reduceat(self.ref_w, starts).astype("float64")
        cur = np.add.reduceat(self.cur_w, starts).astype("float64")
        below = np.r_[0.0, np.cumsum(ref + cur)[:-1]]
        return ref, cur, below

    @cached_property
    def distinct(self) -> int:
        return len(self.ties[0])


class Pair:
    """A reference profile and a window's sorted finite values; their merge is built only when needed."""

    def __init__(self, profile: NumericProfile, current: np.ndarray) -> None:
        self.profile, self.current = profile, current

    @cached_property
    def pooled(self) -> Pooled:
        profile = self.profile
        return Pooled(profile.values, profile.counts if profile.counts is not None else profile.weights,
                      self.current)


def _quantile_wasserstein(values: np.ndarray, units: np.ndarray, total: int, current: np.ndarray) -> float:
    """W1 = ∫|Q_ref(u) - Q_cur(u)| du without merging the samples (linear in the window's size).

    The reference's quantile function steps from values[i] to values[i+1] at u = units[:i+1].sum()/total;
    the window's is current[j] on (j/m, (j+1)/m]. Each window interval is first paired with the reference
    value at its start; the few intervals a reference step falls inside are then corrected.
    """
    m = len(current)
    cumulative = np.cumsum(units)[:-1]  # integer units: positions of the reference's steps, exactly
    key = (cumulative * m + total - 1) // total  # first window interval starting at or after each step
    start = np.cumsum(np.bincount(key, minlength=m + 1))[:m]
    base = float(np.sum(np.abs(current - values[start]))) / m
    inside = (key - 1).clip(0)
    tail = key / m - cumulative / total
    here = current[inside]
    correction = float(np.sum((np.abs(here - values[1:]) - np.abs(here - values[:-1])) * tail))
    return base + correction


def wasserstein(pair: Pair) -> float:
    """Wasserstein distance normalised by the reference's std (ddof 0), floored at 0.001 as Evidently."""
    profile = pair.profile
    if profile.counts is not None:
        units, total = profile.counts, profile.rows
    else:  # each sketch quantile stands for rows/size values: count in units of one quantile
        units, total = np.ones(len(profile.values), dtype="int64"), len(profile.values)
    return _quantile_wasserstein(profile.values, units, total, pair.current) / max(profile.std, 0.001)


def energy(pair: Pair) -> float:
    """scipy's energy_distance: √2 · L2 distance of the CDFs."""
    return pair.pooled.energy


def ks(pair: Pair) -> float:
    """Two-sided KS p-value as scipy's ks_2samp 'auto' (exact up to 10,000 rows a side, else Smirnov)."""
    profile, current = pair.profile, pair.current
    n, m = profile.rows, len(current)
    if max(n, m) <= KS_EXACT_ROWS:
        return float(stats.ks_2samp(profile.expanded(), current).pvalue)
    return ks_pvalue(pair.pooled.ks, n, m)


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """scipy's asymptotic two-sided p-value (Smirnov) for samples of n and m values."""
    big, small = max(n, m), min(n, m)
    return float(np.clip(stats.kstwo.sf(statistic, np.round(big * small / (big + small))), 0, 1))


def t_test(pair: Pair) -> float:
    """Student's t-test (equal variances) from the profile's moments: exact even with a sketch."""
    profile, current = pair.profile, pair.current
    n, m = profile.rows, len(current)
    std_ref = profile.std * math.sqrt(n / (n - 1))
    return float(stats.ttest_ind_from_stats(profile.mean, std_ref, n, float(np.mean(current)),
                                            float(np.std(current, ddof=1)), m, equal_var=True).pvalue)


def sturges_edges(low: float, high: float, size: int) -> np.ndarray:
    """np.histogram_bin_edges(a, 'sturges') for data with this min, max and size."""
    first, last = (low - 0.5, high + 0.5) if low == high else (low, high)
    width = (high - low) / (np.log2(size) + 1.0)
    bins = int(np.ceil((last - first) / width)) if width else 1
    return np.linspace(first, last, bins + 1, endpoint=True)


def _histogram(values: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram counts (last bin closed) of sorted weighted values."""
    cumulative = np.r_[0.0, np.cumsum(weights)]
    at = np.r_[np.searchsorted(values, edges[:-1], "left"), np.searchsorted(values, edges[-1], "right")]
    return np.diff(cumulative[at])


def binned_shares(pair: Pair, fill_zeroes: bool) -> tuple[np.ndarray, np.ndarray]:
    """Evidently's get_binned_data: Sturges bins over both samples, or per value for ≤ 20 distinct values."""
    profile, current = pair.profile, pair.current
    n, m = profile.rows, len(current)
    if profile.distinct > BINNED_DISTINCT:
        edges = sturges_edges(min(profile.min, current[0]), max(profile.max, current[-1]), n + m)
        ref = _histogram(profile.values, profile.weights, edges) / n
        cur = _histogram(current, np.ones(m), edges) / m
    else:
        shares_ref, shares_cur, _ = pair.pooled.ties
        ref, cur = shares_ref / n, shares_cur / m
    if fill_zeroes:
        ref, cur = fill_zero_shares(ref), fill_zero_shares(cur)
    return ref, cur


def fill_zero_shares(shares: np.ndarray) -> np.ndarray:
    """Evidently's `feel_zeroes`: empty bins get a tiny share so logarithms stay finite."""
    shares = shares.copy()
    smallest = shares[shares != 0].min()
    shares[shares == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return shares


def psi(pair: Pair) -> float:
    ref, cur = binned_shares(pair, True)
    return float(np.sum((ref - cur) * np.log(ref / cur)))


def kl_div(pair: Pair) -> float:
    ref, cur = binned_shares(pair, True)
    return float(stats.entropy(ref, cur))


def jensenshannon(pair: Pair) -> float:
    ref, cur = binned_shares(pair, False)
    return float(distance.jensenshannon(ref, cur))


def hellinger(pair: Pair) -> float:
    """Hellinger distance on Sturges bins over the distinct values of both samples, as Evidently."""
    profile, current = pair.profile, pair.current
    if profile.exact:
        distinct = pair.pooled.distinct
    else:  # a sketch does not know every reference value: count the window's values it has not seen
        window_distinct = np.unique(current)
        seen = np.isin(window_distinct, profile.values, assume_unique=True)
        distinct = profile.distinct + int((~seen).sum())
    edges = sturges_edges(min(profile.min, current[0]), max(profile.max, current[-1]), distinct)
    widths = np.diff(edges)
    ref = _histogram(profile.values, profile.weights, edges) / profile.rows / widths
    cur = _histogram(current, np.ones(len(current)), edges) / len(current) / widths
    bin_width = (edges.max() - edges.min()) / (len(edges) - 1)
    overlap = float(np.clip(np.sum(np.sqrt(ref * cur) * bin_width), 0, 1))
    return math.sqrt(1 - overlap)
