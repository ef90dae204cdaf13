"""One false-alarm budget across a window's features.

With 50 features a window must not get 50 chances to cry wolf. Each feature whose threshold is calibrated
brings the tail probability of its score among the reference's chunk scores (`Band.tail_probability`,
uniform when nothing changed) and whether the score lies outside its band. A feature is flagged when it is
outside its band *and* survives the control across all calibrated features of the window:

- `benjamini_hochberg` (default): the false discovery rate among flagged features is at most `rate`;
- `bonferroni`: the chance of any false alarm in the window is at most `rate`;
- `none`: every feature outside its band is flagged.

Features with a fixed threshold (their own `per_column` threshold, or `drift.threshold` for the model) are
decided by that threshold alone, outside the budget; so are features whose band could not be learned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Control = Literal["benjamini_hochberg", "bonferroni", "none"]
NAMES = {"benjamini_hochberg": "Benjamini–Hochberg", "bonferroni": "Bonferroni"}


def benjamini_hochberg(p_values: Sequence[float], rate: float) -> list[bool]:
    """Which hypotheses Benjamini-Hochberg rejects at false discovery rate `rate` (step-up procedure)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    largest = max((rank for rank, i in enumerate(order, 1) if p_values[i] <= rank * rate / m), default=0)
    rejected = set(order[:largest])
    return [i in rejected for i in range(m)]


def bonferroni(p_values: Sequence[float], rate: float) -> list[bool]:
    """Which hypotheses Bonferroni rejects at family-wise error rate `rate`."""
    return [p <= rate / len(p_values) for p in p_values]


@dataclass(frozen=True)
class FeatureEvidence:
    """One feature's drift evidence in a window."""

    name: str
    beyond: bool  # outside its band (calibrated) or drifted at its fixed threshold
    p_value: float | None = None  # tail probability among reference chunks; None: fixed threshold


@dataclass(frozen=True)
class FalseAlarmDecision:
    flagged: list[str]  # in the order the features were given
    description: str  # one line for the report


def control_false_alarms(features: Sequence[FeatureEvidence], control: Control,
                         rate: float) -> FalseAlarmDecision:
    """The features flagged in a window under one false-alarm budget, and how that was decided."""
    calibrated = [f for f in features if f.p_value is not None]
    fixed = [f for f in features if f.p_value is None]
    p_values = [f.p_value for f in calibrated if f.p_value is not None]
    if control == "benjamini_hochberg" and calibrated:
        passed = benjamini_hochberg(p_values, rate)
    elif control == "bonferroni" and calibrated:
        passed = bonferroni(p_values, rate)
    else:
        passed = [True] * len(calibrated)
    survivors = {f.name for f, ok in zip(calibrated, passed, strict=True) if ok and f.beyond}
    flagged = [f.name for f in features if f.name in survivors or (f.p_value is None and f.beyond)]
    return FalseAlarmDecision(flagged, describe(control, rate, len(calibrated), len(fixed)))


def describe(control: Control, rate: float, calibrated: int, fixed: int) -> str:
    """'Benjamini-Hochberg at FDR 0.05 across 10 features' (and how many were decided on their own)."""
    plural = "s" if calibrated != 1 else ""
    if control == "none" or not calibrated:
        text = (f"no false-alarm control: each of {calibrated} calibrated feature{plural} against its own band"
                if calibrated else "no calibrated features")
    elif control == "benjamini_hochberg":
        text = f"{NAMES[control]} at FDR {rate:g} across {calibrated} feature{plural}"
    else:
        text = f"{NAMES[control]} at family-wise rate {rate:g} across {calibrated} feature{plural}"
    if fixed:
        features, whose = ("features", "their") if fixed != 1 else ("feature", "its")
        text += f"; {fixed} {features} with a fixed threshold decided on {whose} own"
    return text
