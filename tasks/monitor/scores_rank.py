"""Rank and kernel drift tests from a reference profile, computed as Evidently 0.7.23's stattests do.

Mann-Whitney U, Cramér-von Mises and Anderson-Darling read ranks and ties from the merge of the
reference's distinct values with the window (`Pooled.ties`), so the reference is never re-sorted; each
equals Evidently's (scipy's) result, using scipy itself where scipy would switch to an exact small-sample
distribution. Epps-Singleton runs scipy on the reference's values (linear, no sort). `empirical_mmd` is a
permutation test and agrees within Monte-Carlo noise only (see `mmd`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from tasks.monitor.scores_numeric import Pair

MMD_SAMPLE = 1000  # empirical_mmd: at most this many values per side (Evidently's kernel is (n+m)^2 floats)
MMD_PERMUTATIONS = 100

def mann_whitney(pair: Pair) -> float:
    """Mann-Whitney U p-value, reference 'less' than window, with tie and continuity corrections."""
    profile, current = pair.profile, pair.current
    n, m = profile.rows, len(current)
    if n <= 8 or m <= 8:  # scipy may use its exact distribution here
        return float(stats.mannwhitneyu(profile.expanded(), current, alternative="less").pvalue)
    ref, cur, below = pair.pooled.ties
    tied = ref + cur
    rank_sum = float(np.sum(ref * (below + (tied + 1) / 2)))
    u2 = n * m - (rank_sum - n * (n + 1) / 2)
    total = n + m
    spread = math.sqrt(n * m / 12 * ((total + 1) - float(np.sum(tied**3 - tied)) / (total * (total - 1))))
    return float(np.clip(special.ndtr(-(u2 - n * m / 2 - 0.5) / spread), 0, 1))


def _sum_sq_offsets(counts: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Σ_{k=1..f} (d - k)² for each tie group: f copies share one midrank, d = midrank - own rank base."""
    f, d = counts, offset
    return f * d**2 - d * f * (f + 1) + f * (f + 1) * (2 * f + 1) / 6


def _cdf_cvm_inf(x: float) -> float:
    """CDF of the limiting Cramér-von Mises distribution (Csörgő & Faraway 1996), as Evidently/scipy."""
    total, k = 0.0, 0
    while True:
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (math.pi**1.5 * math.sqrt(x))
        y = 4 * k + 1
        q = y**2 / (16 * x)
        term = u * math.sqrt(y) * math.exp(-q) * float(special.kv(0.25, q))
        total += term
        if abs(term) < 1e-7:
            return total
        k += 1


def cramer_von_mises(pair: Pair) -> float:
    """Two-sample Cramér-von Mises p-value with midranks (exact up to 20 rows a side, else asymptotic)."""
    profile, current = pair.profile, pair.current
    nx, ny = profile.rows, len(current)
    if max(nx, ny) <= 20:
        return float(stats.cramervonmises_2samp(profile.expanded(), current, method="exact").pvalue)
    ref, cur, below = pair.pooled.ties
    midrank = below + (ref + cur + 1) / 2
    ref_base = np.r_[0.0, np.cumsum(ref)[:-1]]
    cur_base = np.r_[0.0, np.cumsum(cur)[:-1]]
    u = nx * float(np.sum(_sum_sq_offsets(ref, midrank - ref_base)))
    u += ny * float(np.sum(_sum_sq_offsets(cur, midrank - cur_base)))
    k, total = nx * ny, nx + ny
    t = u / (k * total) - (4 * k - 1) / (6 * total)
    et = (1 + 1 / total) / 6
    vt = (total + 1.0) * (4 * k * total - 3 * (nx**2 + ny**2) - 2 * k) / (45 * total**2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    return 1.0 if tn < 0.003 else max(0.0, 1.0 - _cdf_cvm_inf(tn))


_AD_SIG = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
# Scholz & Stephens' table 2 interpolated for two samples (m = k - 1 = 1): b0 + b1/√m + b2/m
_AD_CRITICAL = (np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
                + np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
                + np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154]))


def anderson(pair: Pair) -> float:
    """k-sample Anderson-Darling (midrank) p-value, interpolated and capped to [0.001, 0.25] as scipy."""
    ref, cur, below = pair.pooled.ties
    sizes = (float(pair.profile.rows), float(len(pair.current)))
    total = sizes[0] + sizes[1]
    tied = ref + cur
    bj = below + tied / 2
    a2 = 0.0
    for counts, size in zip((ref, cur), sizes, strict=True):
        mij = np.cumsum(counts) - counts / 2
        inner = tied / total * (total * mij - bj * size) ** 2 / (bj * (total - bj) - total * tied / 4)
        a2 += float(np.sum(inner)) / size
    a2 *= (total - 1.0) / total
    k = 2
    h_big = (1.0 / np.array(sizes)).sum()
    hs_cs = (1.0 / np.arange(total - 1, 1, -1)).cumsum()
    h = hs_cs[-1] + 1
    g = (hs_cs / np.arange(2, total)).sum()
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_big
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * h_big - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_big + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * total**3 + b * total**2 + c * total + d) / ((total - 1.0) * (total - 2.0) * (total - 3.0))
    statistic = (a2 - (k - 1)) / math.sqrt(sigmasq)
    critical = _AD_CRITICAL
    if statistic < critical.min():
        return float(_AD_SIG.max())
    if statistic > critical.max():
        return float(_AD_SIG.min())
    return math.exp(np.polyval(np.polyfit(critical, np.log(_AD_SIG), 2), statistic))


def epps_singleton(pair: Pair) -> float:
    """Epps-Singleton p-value (scipy) on the reference's values; needs a pooled IQR above 0."""
    return float(stats.epps_singleton_2samp(pair.profile.expanded(), pair.current).pvalue)


def pooled_iqr(pair: Pair) -> float:
    """Interquartile range of reference and window together (Evidently refuses `es` when it is 0)."""
    return float(stats.iqr(np.concatenate([pair.profile.expanded(), pair.current])))


def _spread(values: np.ndarray, size: int) -> np.ndarray:
    """At most `size` evenly spaced order statistics of sorted `values` (all of them when fewer)."""
    if len(values) <= size:
        return values
    return values[((np.arange(size) + 0.5) * len(values) / size).astype(np.int64)]


def mmd(pair: Pair) -> float:
    """Evidently's empirical MMD permutation p-value (RBF kernel, median heuristic, 100 permutations).

    Evidently permutes with numpy's global random state and builds an (n+m)^2 kernel; here permutations
    come from a fixed seed and each side is reduced to at most MMD_SAMPLE evenly spaced order
    statistics, so the p-value agrees with Evidently's within Monte-Carlo noise, not bit for bit.
    """
    x = _spread(pair.profile.expanded(), MMD_SAMPLE).reshape(-1, 1)
    y = _spread(pair.current, MMD_SAMPLE).reshape(-1, 1)
    both = np.concatenate([x, y])
    dist = (both - both.T) ** 2
    within = dist[: len(x), : len(x)]
    sigma = (0.5 * np.percentile(within.flatten(), 50, method="nearest")) ** 0.5 or 0.5**0.5
    kernel = np.exp(-dist / (2.0 * sigma**2))
    np.fill_diagonal(kernel, 0.0)
    nx, ny = len(x), len(y)

    def statistic(index: np.ndarray) -> float:
        kx, ky = index[:nx], index[nx:]
        return float(kernel[np.ix_(kx, kx)].sum() / (nx * (nx - 1)) + kernel[np.ix_(ky, ky)].sum() / (ny * (ny - 1))
                     - 2.0 * kernel[np.ix_(ky, kx)].mean())

    observed = statistic(np.arange(nx + ny))
    rng = np.random.default_rng(0)
    permuted = np.array([statistic(rng.permutation(nx + ny)) for _ in range(MMD_PERMUTATIONS)])
    return float((observed <= permuted).mean())
