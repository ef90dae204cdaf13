"""A drop confirmed by consecutive windows together: the pooling as a pure function."""

from __future__ import annotations

import math

import pytest

from tasks.monitor.pooled import pooled_drop
from tasks.results import PerformanceSummary

Z95 = 1.959963984540054


def window(value: float, half: float, *, reference: float = 0.8, allowance: float | None = 0.05,
           rows: int = 200, higher_is_better: bool = True) -> PerformanceSummary:
    """A window's roc_auc (or an error metric) with a symmetric 95% interval of half-width `half`."""
    return PerformanceSummary("roc_auc" if higher_is_better else "mae", value, reference, rows, higher_is_better,
                              ci_low=value - half, ci_high=value + half, allowance=allowance)


def test_two_windows_confirm_together_what_neither_confirms_alone() -> None:
    """Drops of 0.09 beyond an allowance of 0.05, each with a 95% half-width of 0.05 (bound 0.04 alone): the
    pooled excess 0.04 has the standard error 0.0255 / sqrt(2) and a lower bound above zero."""
    pooled = pooled_drop(window(0.71, 0.05), [window(0.71, 0.05)], confidence=0.95, span=3)
    assert pooled is not None
    se = 0.05 / Z95 / math.sqrt(2)
    assert pooled.windows == 2 and pooled.labelled_rows == 400
    assert pooled.excess == pytest.approx(0.04)
    assert pooled.low == pytest.approx(0.04 - Z95 * se)
    assert pooled.confirmed


def test_windows_are_weighted_by_their_precision() -> None:
    """Inverse-variance weights: a window with half the interval counts four times as much."""
    pooled = pooled_drop(window(0.70, 0.025), [window(0.74, 0.05)], confidence=0.95, span=3)
    assert pooled is not None
    assert pooled.excess == pytest.approx((4 * 0.05 + 1 * 0.01) / 5)


def test_a_small_excess_is_not_confirmed() -> None:
    """Drops just beyond the allowance, with wide intervals: pooled, still inside the noise."""
    pooled = pooled_drop(window(0.74, 0.08), [window(0.74, 0.08), window(0.74, 0.08)], confidence=0.95, span=3)
    assert pooled is not None and pooled.windows == 3
    assert not pooled.confirmed


def test_the_run_stops_at_a_window_within_its_allowance() -> None:
    """Only consecutive windows with a point drop beyond the allowance, this one last, are pooled: an earlier
    breaching window behind a quiet one does not count, and a quiet current window pools nothing."""
    quiet, drop = window(0.78, 0.05), window(0.70, 0.05)
    assert pooled_drop(drop, [drop, quiet], confidence=0.95, span=3) is None
    assert pooled_drop(quiet, [drop, drop], confidence=0.95, span=3) is None
    found = pooled_drop(drop, [quiet, drop], confidence=0.95, span=3)
    assert found is not None and found.windows == 2


def test_the_run_is_at_most_span_windows_and_needs_intervals() -> None:
    """At most `span` windows, newest first; a window without a record or without an interval ends the run."""
    drop = window(0.70, 0.05)
    longest = pooled_drop(drop, [drop, drop, drop, drop], confidence=0.95, span=3)
    assert longest is not None and longest.windows == 3
    bare = PerformanceSummary("roc_auc", 0.70, 0.8, 200, True, allowance=0.05)
    assert pooled_drop(drop, [bare, drop], confidence=0.95, span=3) is not None
    assert pooled_drop(drop, [drop, bare], confidence=0.95, span=3) is None
    assert pooled_drop(drop, [None], confidence=0.95, span=3) is None
    assert pooled_drop(drop, [window(0.70, 0.05, allowance=None)], confidence=0.95, span=3) is None


def test_each_window_is_judged_against_its_own_reference_and_allowance() -> None:
    """Across a promotion the reference moves: each window's excess is its drop beyond its own allowance."""
    before = window(0.60, 0.05, reference=0.70, allowance=0.02)  # excess 0.08
    after = window(0.71, 0.05, reference=0.80, allowance=0.05)  # excess 0.04
    pooled = pooled_drop(after, [before], confidence=0.95, span=3)
    assert pooled is not None and pooled.excess == pytest.approx(0.06)


def test_an_error_metric_drops_upwards() -> None:
    """For mae a drop is a rise: 1.6 against 1.35 with an allowance of 0.05 is an excess of 0.2."""
    rise = window(1.6, 0.28, reference=1.35, higher_is_better=False)
    pooled = pooled_drop(rise, [rise, rise], confidence=0.95, span=3)
    assert pooled is not None and pooled.excess == pytest.approx(0.2)
    assert pooled.low == pytest.approx(0.2 - 0.28 / math.sqrt(3))
    assert pooled_drop(window(1.2, 0.28, reference=1.35, higher_is_better=False), [rise], confidence=0.95,
                       span=3) is None


def test_the_bound_is_at_the_intervals_confidence() -> None:
    """The standard errors are read off intervals at the configured confidence and the pooled bound is at that
    same confidence: n equal windows shrink the half-width by sqrt(n), whatever the level."""
    drop = window(0.72, 0.05)
    for confidence in (0.8, 0.95, 0.99):
        pooled = pooled_drop(drop, [drop, drop], confidence=confidence, span=3)
        assert pooled is not None and pooled.low == pytest.approx(0.03 - 0.05 / math.sqrt(3))
