"""Categorical drift scores from category counts, computed as Evidently 0.7.23's stattests compute them.

Every categorical method needs only the reference's and the window's count per category, so all are exact
from the profile, with two deliberate differences where Evidently itself cannot run:

- `g_test` passes the reference counts as expected frequencies; scipy refuses them unless both samples have
  the same size. Here they are scaled to the window's size first (as Evidently's chi-square does), which
  equals Evidently's result whenever Evidently's runs;
- `fisher_exact` raises in Evidently unless both samples have the same size; here it runs on the 2x2 table
  of counts for any sizes (the same table Evidently builds when it runs).

`TVD` is a permutation p-value: Evidently permutes the pooled rows 1,000 times; here the same permutation
distribution is drawn from the counts (multivariate hypergeometric, fixed seed), so the p-value agrees
within Monte-Carlo noise (±0.05), not bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.spatial import distance

from tasks.monitor.scores_numeric import fill_zero_shares

TVD_PERMUTATIONS = 1000


@dataclass(frozen=True)
class Aligned:
    """Reference and window counts over the union of their categories (sorted by label)."""

    categories: tuple[str, ...]
    ref: np.ndarray
    cur: np.ndarray

    @property
    def n(self) -> int:
        return int(self.ref.sum())

    @property
    def m(self) -> int:
        return int(self.cur.sum())


def align(ref_categories: tuple[str, ...], ref_counts: np.ndarray, current: dict[str, int]) -> Aligned:
    """Counts of both sides over every category either side has."""
    known = dict(zip(ref_categories, ref_counts.tolist(), strict=True))
    categories = tuple(sorted(set(known) | set(current)))
    return Aligned(categories, np.array([known.get(c, 0) for c in categories], dtype="float64"),
                   np.array([current.get(c, 0) for c in categories], dtype="float64"))


def chisquare(counts: Aligned) -> float:
    """Chi-square p-value with the reference's counts scaled to the window's size as expectations."""
    expected = counts.ref * (counts.m / counts.n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.chisquare(counts.cur, expected).pvalue)


def g_test(counts: Aligned) -> float:
    """G-test (log-likelihood ratio) p-value; expectations scaled to the window's size (see module doc)."""
    expected = counts.ref * (counts.m / counts.n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.power_divergence(counts.cur, expected, lambda_="log-likelihood").pvalue)


def z_test(counts: Aligned) -> float:
    """Two-proportion z-test of 'not the first category (by label)' between reference and window."""
    if len(counts.categories) == 1:
        return 1.0
    n, m = counts.n, counts.m
    p1, p2 = (n - counts.ref[0]) / n, (m - counts.cur[0]) / m
    pooled = (p1 * n + p2 * m) / (n + m)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n + 1.0 / m))
    return float(2 * (1 - stats.norm.cdf(np.abs(z))))


def _shares(counts: Aligned, fill_zeroes: bool) -> tuple[np.ndarray, np.ndarray]:
    ref, cur = counts.ref / counts.n, counts.cur / counts.m
    if fill_zeroes:
        return fill_zero_shares(ref), fill_zero_shares(cur)
    return ref, cur


def psi(counts: Aligned) -> float:
    ref, cur = _shares(counts, True)
    return float(np.sum((ref - cur) * np.log(ref / cur)))


def kl_div(counts: Aligned) -> float:
    ref, cur = _shares(counts, True)
    return float(stats.entropy(ref, cur))


def jensenshannon(counts: Aligned) -> float:
    ref, cur = _shares(counts, False)
    return float(distance.jensenshannon(ref, cur))


def hellinger(counts: Aligned) -> float:
    ref, cur = _shares(counts, False)
    return math.sqrt(1 - float(np.clip(np.sum(np.sqrt(ref * cur)), 0, 1)))


def _tvd(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Total variation distance per row of count matrices."""
    return 0.5 * np.abs(ref / ref.sum(axis=-1, keepdims=True) - cur / cur.sum(axis=-1, keepdims=True)).sum(axis=-1)


def tvd(counts: Aligned) -> float:
    """Permutation p-value of the total variation distance (share of permutations at least as large)."""
    pooled = (counts.ref + counts.cur).astype("int64")
    observed = _tvd(counts.ref[None, :], counts.cur[None, :])[0]
    rng = np.random.default_rng(0)
    ref = rng.multivariate_hypergeometric(pooled, counts.n, size=TVD_PERMUTATIONS).astype("float64")
    permuted = _tvd(ref, pooled[None, :] - ref)
    return float(np.mean(observed <= permuted))


def fisher_exact(counts: Aligned) -> float:
    """Fisher's exact test on the 2x2 table of two categories in reference and window."""
    ones = (counts.cur[-1], counts.ref[-1]) if len(counts.categories) == 2 else (0.0, 0.0)
    table = np.array([[ones[0], counts.m - ones[0]], [ones[1], counts.n - ones[1]]], dtype="int64")
    return float(stats.fisher_exact(table).pvalue)
