"""score_column on what Evidently crashes on or would mislead with: a typed answer, never a traceback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tasks.errors import ConfigError
from tasks.monitor.profile import profile_categorical, profile_numeric
from tasks.monitor.scores import METHODS, CannotScore, ColumnScore, score_column

rng = np.random.default_rng(0)
VARIED = profile_numeric("temp", rng.normal(20, 5, 2000))
CATEGORIES = profile_categorical("carrier", rng.choice(["UA", "DL", "AA"], 2000))


def cannot(result: ColumnScore | CannotScore) -> CannotScore:
    assert isinstance(result, CannotScore), result
    return result


@pytest.mark.parametrize("method", ["wasserstein", "ks", "psi", "t_test"])
def test_an_all_null_window_cannot_be_scored(method: str) -> None:
    """A window whose values are all null (or infinite) is 'no values in this window', for any method."""
    result = cannot(score_column(method, VARIED, pd.Series([np.nan, np.inf, None], dtype=object), 0.1))
    assert result.reason == "no_window_values"
    assert result.message == "no values in this window (all null)"


def test_an_all_null_reference_cannot_be_scored() -> None:
    """A reference column without values cannot be compared with anything."""
    empty = profile_numeric("temp", np.full(100, np.nan))
    assert cannot(score_column("wasserstein", empty, rng.normal(size=50), 0.1)).reason == "no_reference_values"
    nulls = profile_categorical("carrier", pd.Series([None, np.nan]))
    assert cannot(score_column("chisquare", nulls, ["UA"], 0.05)).reason == "no_reference_values"


def test_a_constant_reference_column_is_named_once_not_scored() -> None:
    """Wasserstein would divide by a zero spread (Evidently gives a huge score): constant references,
    numeric or categorical, are reported as such, with the value, for every method."""
    constant = profile_numeric("visib", np.full(500, 10.0))
    result = cannot(score_column("wasserstein", constant, rng.normal(9, 1, 100), 0.1))
    assert (result.reason, result.message) == ("constant_reference",
                                               "constant in the reference (10): drift cannot be scored")
    one = profile_categorical("origin", ["EWR"] * 30)
    assert cannot(score_column("jensenshannon", one, ["EWR", "JFK"], 0.1)).message.startswith(
        "constant in the reference (EWR)")


def test_text_in_a_numeric_window_column_is_a_typed_answer() -> None:
    """'n/a' in a numeric column says what it holds instead of raising from deep inside numpy."""
    result = cannot(score_column("wasserstein", VARIED, pd.Series(["1.5", "n/a"], name="temp"), 0.1))
    assert result.reason == "not_numeric" and "should be numeric" in result.message


def test_method_preconditions_are_typed_answers() -> None:
    """fisher_exact needs two categories; es needs a spread where Evidently raises; tests needing a few
    values on either side say so."""
    assert cannot(score_column("fisher_exact", CATEGORIES, ["UA", "DL"], 0.05)).reason == "method_precondition"
    zeros = profile_numeric("precip", np.r_[np.zeros(900), rng.exponential(1, 100)])
    assert "interquartile range" in cannot(score_column("es", zeros, np.zeros(300), 0.05)).message
    assert cannot(score_column("t_test", VARIED, [21.0], 0.05)).reason == "too_few_values"
    tiny = profile_numeric("temp", [20.0, 21.0, 22.0])
    assert cannot(score_column("es", tiny, VARIED.values, 0.05)).message == \
        "es needs at least 5 values; the reference has 3"


def test_a_method_of_the_wrong_kind_is_a_configuration_error() -> None:
    """ks on a categorical column is named as a configuration mistake with the methods that do apply."""
    with pytest.raises(ConfigError, match=r"'ks' does not apply to categorical column 'carrier'.*chisquare"):
        score_column("ks", CATEGORIES, ["UA"], 0.05)


def test_one_one_point_zero_and_true_are_one_category() -> None:
    """Values are normalised as the monitor does: 1, 1.0 and True count as the same category."""
    reference = profile_categorical("flag", pd.Series([1, 0, 1.0, True, 0.0, False], dtype=object))
    assert dict(zip(reference.categories, reference.counts.tolist(), strict=True)) == {"0": 3, "1": 3}
    same = score_column("jensenshannon", reference, pd.Series([True, False, 1, 0.0], dtype=object), 0.1)
    assert isinstance(same, ColumnScore) and same.score == 0.0


def test_unseen_categories_are_scored_not_dropped() -> None:
    """A category the reference never saw counts in the window's shares (chi-square: certain drift)."""
    result = score_column("chisquare", CATEGORIES, ["UA"] * 50 + ["ZZ"] * 50, 0.05)
    assert isinstance(result, ColumnScore) and result.score == 0.0 and result.drifted


@pytest.mark.parametrize(("method", "score", "drifted"), [
    ("wasserstein", 0.1, True), ("ed", 0.1, False), ("ks", 0.05, True), ("chisquare", 0.05, False)])
def test_thresholds_compare_as_evidently_compares_them(method: str, score: float, drifted: bool) -> None:
    """A score equal to the threshold drifts for ≥/≤ methods (wasserstein, ks) but not for >/< ones."""
    assert METHODS[method].beyond(score, 0.1 if METHODS[method].direction == "higher" else 0.05) is drifted


def test_a_sketch_profile_states_its_bound_and_keeps_t_test_exact() -> None:
    """Above the exact limit, Wasserstein carries its proven error bound and the t-test stays exact."""
    reference = rng.normal(0, 1, 50_000)
    sketch = profile_numeric("x", reference, exact_limit=1000, sketch_size=1000)
    window = rng.normal(0.1, 1, 5000)
    result = score_column("wasserstein", sketch, window, 0.1)
    assert isinstance(result, ColumnScore) and not result.exact and result.error is not None
    exact = stats.wasserstein_distance(reference, window) / np.std(reference)
    assert abs(result.score - exact) <= result.error
    t = score_column("t_test", sketch, window, 0.05)
    assert isinstance(t, ColumnScore)
    assert t.score == pytest.approx(stats.ttest_ind(reference, window).pvalue, rel=1e-9)
