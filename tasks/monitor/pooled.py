"""A performance drop confirmed by the labelled rows of consecutive windows together.

A window of a few hundred labelled rows has a wide confidence interval: a real drop of twice the allowance can
sit inside it, window after window, while each window alone confirms nothing. The persistence rule asks for
the drop to repeat; pooling asks the repeated windows the question together. The windows of the current run
(consecutive windows, this one last, each with a point drop beyond its allowance) are combined by inverse
variance: each window's excess over its own allowance, weighted by 1 / se², where se is read off the window's
confidence interval (its width over 2·z). The pooled excess has the standard error 1 / sqrt(Σ 1/se²); the drop
is confirmed when the pooled excess's lower bound at the same confidence is above zero. Each window's excess is
taken against its own reference and allowance, so a run that spans a promotion still compares like with like.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from tasks.results import PerformanceSummary

TOLERANCE = 1e-9


@dataclass(frozen=True)
class PooledDrop:
    """The excess over the allowance of a run of windows, pooled."""

    windows: int
    labelled_rows: int
    excess: float  # the pooled drop beyond the allowance (positive = worse than allowed)
    low: float  # its lower confidence bound

    @property
    def confirmed(self) -> bool:
        return self.low > TOLERANCE


def _z(confidence: float) -> float:
    """The normal quantile of a central `confidence` interval (1.96 for 0.95)."""
    return NormalDist().inv_cdf((1 + confidence) / 2)


def _excess(perf: PerformanceSummary | None, confidence: float) -> tuple[float, float] | None:
    """A window's point drop beyond its allowance and the standard error read off its interval; None when the
    window has no interval, no allowance, or no point drop beyond the allowance."""
    if perf is None or perf.drop is None or perf.allowance is None or perf.ci_low is None or perf.ci_high is None:
        return None
    excess = perf.drop - perf.allowance
    se = (perf.ci_high - perf.ci_low) / (2 * _z(confidence))
    if excess <= TOLERANCE or not math.isfinite(se) or se <= 0:
        return None
    return excess, se


def pooled_drop(current: PerformanceSummary, previous: Sequence[PerformanceSummary | None], *, confidence: float,
                span: int) -> PooledDrop | None:
    """The pooled excess of the run of windows ending with `current` (at most `span` windows; `previous` holds
    the scheduled windows before it, oldest first, None where a window has no performance record). None when
    the current window's point drop is within its allowance or the run is a single window."""
    run: list[tuple[float, float, int]] = []
    for perf in [current, *reversed(previous)][:span]:
        found = _excess(perf, confidence)
        if found is None:
            break
        assert perf is not None
        run.append((*found, perf.labelled_rows))
    if len(run) < 2:
        return None
    weights = [1 / se ** 2 for _, se, _ in run]
    total = sum(weights)
    excess = sum(w * e for w, (e, _, _) in zip(weights, run, strict=True)) / total
    low = excess - _z(confidence) / math.sqrt(total)
    return PooledDrop(len(run), sum(rows for _, _, rows in run), excess, low)
