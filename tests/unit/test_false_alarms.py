"""One false-alarm budget across a window's features: BH, Bonferroni and none as pure functions."""

from __future__ import annotations

import pytest
from scipy import stats

from tasks.monitor.false_alarms import (
    FeatureEvidence,
    benjamini_hochberg,
    bonferroni,
    control_false_alarms,
)


@pytest.mark.parametrize(("p_values", "rejected"), [
    # sorted p against rank·0.05/m: 0.01 ≤ 0.0125 passes; 0.03 > 0.025, 0.04 > 0.0375, 0.2 > 0.05
    ([0.01, 0.04, 0.03, 0.2], [True, False, False, False]),
    # step-up: the first fails its own bound (0.02 > 0.0125) but the fourth passes (0.04 ≤ 0.05): all four
    ([0.02, 0.025, 0.026, 0.04], [True, True, True, True]),
    # Benjamini & Hochberg's style of example: bounds 0.00625·k; only the two smallest pass
    ([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205], [True, True] + [False] * 6),
    ([0.2], [False]),
    ([0.05], [True]),
])
def test_benjamini_hochberg_against_hand_computed_cases(p_values: list[float], rejected: list[bool]) -> None:
    assert benjamini_hochberg(p_values, 0.05) == rejected
    assert [q <= 0.05 for q in stats.false_discovery_control(p_values)] == rejected  # scipy agrees


def test_bonferroni_divides_the_rate_by_the_number_of_features() -> None:
    """With 4 features at 0.05 each must reach 0.0125."""
    assert bonferroni([0.01, 0.0125, 0.013, 0.5], 0.05) == [True, True, False, False]


def test_a_feature_must_leave_its_band_and_survive_the_control() -> None:
    """Under BH a feature outside its band but not significant across the window is not flagged; a
    significant one inside its band is not flagged either; fixed-threshold columns decide alone."""
    features = [
        FeatureEvidence("temp", beyond=True, p_value=0.0001),
        FeatureEvidence("humid", beyond=True, p_value=0.02),  # outside a p95 band; third: 0.02 > 3·0.05/10
        FeatureEvidence("wind", beyond=False, p_value=0.0002),  # cannot happen with a p99 band, stays out
        *(FeatureEvidence(f"f{i}", beyond=False, p_value=0.5) for i in range(7)),
        FeatureEvidence("precip", beyond=True),  # per_column threshold: outside the budget
        FeatureEvidence("visib", beyond=False),
    ]
    decision = control_false_alarms(features, "benjamini_hochberg", 0.05)
    assert decision.flagged == ["temp", "precip"]
    assert decision.description == ("Benjamini–Hochberg at FDR 0.05 across 10 features; "
                                    "2 features with a fixed threshold decided on their own")
    assert control_false_alarms(features, "none", 0.05).flagged == ["temp", "humid", "precip"]
    bonf = control_false_alarms(features, "bonferroni", 0.05)
    assert bonf.flagged == ["temp", "precip"]
    assert bonf.description.startswith("Bonferroni at family-wise rate 0.05 across 10 features")


def test_descriptions_for_the_report() -> None:
    one = [FeatureEvidence("temp", beyond=False, p_value=0.3)]
    assert control_false_alarms(one, "benjamini_hochberg", 0.1).description == \
        "Benjamini–Hochberg at FDR 0.1 across 1 feature"
    assert control_false_alarms(one, "none", 0.05).description == \
        "no false-alarm control: each of 1 calibrated feature against its own band"
    fixed = [FeatureEvidence("temp", beyond=True)]
    decision = control_false_alarms(fixed, "benjamini_hochberg", 0.05)
    assert decision.flagged == ["temp"]
    assert decision.description == "no calibrated features; 1 feature with a fixed threshold decided on its own"
