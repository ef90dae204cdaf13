"""Drift scores from the aggregates a warehouse computed (`tasks.source.pushdown`), with a proven bound.

- categorical columns: every categorical method needs only the counts per category, so each score equals the
  one `tasks.monitor.scores.score_column` computes from the rows (and Evidently's, within the tolerances
  stated there);
- numeric columns: `wasserstein` (the shipped default). Each bucket's values are stood in for by their mean,
  weighted by their count, and Wasserstein is computed exactly between the reference profile and that
  stand-in. Only buckets where the two CDFs can cross move the score, each by at most its share of
  W1(window, stand-in) (`stand_in`): the sum is the score's `error` (normalised like the score, plus the
  sketch's own bound where the reference is a sketch). The bound is computed for each window from its own
  aggregates; where the threshold lies inside score ± error the decision is not certain, and `certain` says
  so. Other numeric methods need the window's values and are a configuration error here.
"""

from __future__ import annotations

import numpy as np

from tasks.errors import ConfigError
from tasks.monitor.profile import CategoricalProfile, ColumnProfile, NumericProfile
from tasks.monitor.scores import CannotScore, ColumnScore, method, reference_problem, score_counts
from tasks.monitor.scores_numeric import cdf_distances
from tasks.source.pushdown import CategoryCounts, ColumnAggregate, NumericBuckets

NUMERIC_METHODS = frozenset({"wasserstein"})


def stand_in(buckets: NumericBuckets, profile: NumericProfile) -> tuple[np.ndarray, np.ndarray, float]:
    """The window as one point per non-empty bucket (its mean, weighted by its count, in ascending order) and
    a proven bound on how far that moves the Wasserstein distance to `profile` (not normalised).

    The stand-in's CDF equals the window's at every edge and has the same integral over every bucket, so on a
    bucket where the reference CDF stays on one side of the window's (always true of the two open-ended
    buckets) the distance's share is exact; elsewhere it moves by at most W1(window, stand-in) on that bucket,
    count/m x the largest mean absolute deviation values in [low, high] with that mean can have,
    2(mean - low)(high - mean)/(high - low)."""
    full = buckets.counts > 0
    counts = buckets.counts[full]
    low, high = buckets.lows[full], buckets.highs[full]
    means = np.clip(buckets.sums[full] / counts, low, high)  # the sum's rounding cannot leave the bucket
    spread = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = np.where(spread > 0, 2 * (means - low) * (high - means) / spread, 0.0)
    m = counts.sum()
    cumulative = np.cumsum(buckets.counts)
    below, upto = (cumulative - buckets.counts) / m, cumulative / m  # the window's CDF at the bucket's ends
    weights = profile.counts if profile.counts is not None else profile.weights
    ref_cdf = np.r_[0.0, np.cumsum(weights)] / weights.sum()
    edges = buckets.edges
    # the reference CDF at a bucket's start (values <= it) and just before its end (values < it)
    first = np.r_[0.0, ref_cdf[np.searchsorted(profile.values, edges, side="right")]]
    last = np.r_[ref_cdf[np.searchsorted(profile.values, edges, side="left")], 1.0]
    crossing = ~((last <= below) | (first >= upto))
    return means, counts, float(np.sum((counts * deviation)[crossing[full]]) / m)


def score_aggregate(method_name: str, profile: ColumnProfile, aggregate: ColumnAggregate,
                    threshold: float) -> ColumnScore | CannotScore:
    """Score one column's warehouse aggregate against its reference profile (see the module docstring)."""
    chosen = method(method_name, profile.kind, profile.name)
    unusable = reference_problem(profile, method_name)
    if unusable is not None:
        return unusable
    if isinstance(profile, CategoricalProfile):
        assert isinstance(aggregate, CategoryCounts)
        return score_counts(chosen, profile, aggregate.counts, threshold)
    assert isinstance(profile, NumericProfile) and isinstance(aggregate, NumericBuckets)
    if chosen.name not in NUMERIC_METHODS:
        raise ConfigError(f"column {profile.name!r}: drift aggregates computed in the warehouse score numeric "
                          f"columns with {', '.join(sorted(NUMERIC_METHODS))}, not {chosen.name}")
    if aggregate.rows == 0:
        return CannotScore(profile.name, chosen.name, "no_window_values", "no values in this window (all null)")
    means, counts, bound = stand_in(aggregate, profile)
    distance, _ = cdf_distances(profile.values, profile.counts if profile.counts is not None else profile.weights,
                                means, counts)
    scale = max(profile.std, 0.001)
    score, error = distance / scale, bound / scale
    if profile.sketch_error is not None:
        error += profile.sketch_error.wasserstein
    return ColumnScore(profile.name, chosen.name, score, threshold, chosen.beyond(score, threshold),
                       chosen.direction, exact=False, error=error, rows=aggregate.rows)


def certain(score: ColumnScore) -> bool:
    """Whether every score within the stated error gives the same decision."""
    if score.error is None or score.error == 0:
        return True
    chosen = method(score.method, "numeric")
    return chosen.beyond(score.score - score.error, score.threshold) == \
        chosen.beyond(score.score + score.error, score.threshold)
