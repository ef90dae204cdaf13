"""Score one column of a window against its reference profile, as Evidently's ValueDrift would.

`score_column(method, profile, current_values, threshold)` returns the score Evidently 0.7.23 reports for
that method and Evidently's own drift decision at `threshold`, or a typed `CannotScore` where Evidently
would crash or the score would mean nothing (no values, a constant reference, a test's precondition).

Exactness (what the parity tests pin, tolerance 1e-6 absolute on p-values, relative on distances):

- exact profile (up to `EXACT_LIMIT` distinct values per numeric column, and every categorical column):
  every method except the permutation tests, which agree within Monte-Carlo noise: `TVD` within ±0.05
  (1,000 permutations), `empirical_mmd` within ±0.15 (100 permutations; Evidently does not seed them, so
  its own runs differ by as much);
- sketch profile: `t_test` stays exact (moments); `wasserstein`, `ks` and `ed` come with `error`, a proven
  bound on the difference (see `SketchError`); the binned (`psi`, `kl_div`, `jensenshannon`, `hellinger`)
  and rank methods (`mannw`, `cramer_von_mises`, `anderson`, `es`) are approximate: each reference bin
  share or rank is within `SketchError.ks` (≤ 1/sketch size) of the exact one.

Direction: distances grow with drift ("higher"), p-values shrink ("lower"); `drifted` uses Evidently's own
comparison for the method (≥ for most distances, > for `ed`, ≤ for `ks` and `cramer_von_mises`, < for the
other p-values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from tasks.errors import ConfigError, DataError
from tasks.monitor import scores_categorical as cat
from tasks.monitor import scores_numeric as num
from tasks.monitor import scores_rank as rank
from tasks.monitor.profile import CategoricalProfile, ColumnProfile, NumericProfile, category_counts, sorted_values

Direction = Literal["higher", "lower"]  # which way a score moves when the column drifts
Reason = Literal["no_window_values", "no_reference_values", "constant_reference", "not_numeric",
                 "too_few_values", "method_precondition"]


@dataclass(frozen=True)
class Method:
    """A drift method as Evidently defines it: which way is drift and how the threshold compares."""

    name: str
    direction: Direction
    inclusive: bool  # drift at score == threshold (≥ / ≤) or only beyond it (> / <)
    numeric: Callable[[num.Pair], float] | None = None
    categorical: Callable[[cat.Aligned], float] | None = None
    min_rows: int = 1  # fewer window values than this: cannot score

    def beyond(self, score: float, threshold: float) -> bool:
        """Evidently's decision: is `score` on the drift side of `threshold`?"""
        if self.direction == "higher":
            return bool(score >= threshold) if self.inclusive else bool(score > threshold)
        return bool(score <= threshold) if self.inclusive else bool(score < threshold)


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("wasserstein", "higher", True, numeric=num.wasserstein),
    Method("ks", "lower", True, numeric=num.ks),
    Method("psi", "higher", True, numeric=num.psi, categorical=cat.psi),
    Method("kl_div", "higher", True, numeric=num.kl_div, categorical=cat.kl_div),
    Method("jensenshannon", "higher", True, numeric=num.jensenshannon, categorical=cat.jensenshannon),
    Method("hellinger", "higher", True, numeric=num.hellinger, categorical=cat.hellinger),
    Method("anderson", "lower", False, numeric=rank.anderson),
    Method("cramer_von_mises", "lower", True, numeric=rank.cramer_von_mises, min_rows=2),
    Method("mannw", "lower", False, numeric=rank.mann_whitney),
    Method("ed", "higher", False, numeric=num.energy),
    Method("es", "lower", False, numeric=rank.epps_singleton, min_rows=5),
    Method("t_test", "lower", False, numeric=num.t_test, min_rows=2),
    Method("empirical_mmd", "lower", False, numeric=rank.mmd, min_rows=2),
    Method("chisquare", "lower", False, categorical=cat.chisquare),
    Method("z", "lower", False, categorical=cat.z_test),
    Method("TVD", "lower", False, categorical=cat.tvd),
    Method("fisher_exact", "lower", False, categorical=cat.fisher_exact),
    Method("g_test", "lower", False, categorical=cat.g_test),
)}
ALIASES = {"emperical_mmd": "empirical_mmd"}  # an old misspelling → the name Evidently registers
APPROXIMATE = frozenset({"empirical_mmd", "TVD"})  # permutation tests: Monte-Carlo agreement only
BOUNDED_BY_SKETCH = {"wasserstein", "ks", "ed", "t_test"}


@dataclass(frozen=True)
class ColumnScore:
    """A column's drift score and Evidently's decision for it at `threshold`."""

    column: str
    method: str
    score: float
    threshold: float
    drifted: bool
    direction: Direction
    exact: bool = True  # False: from a sketch or a permutation test
    error: float | None = None  # with a sketch: proven bound on |score - the exact score|, where known
    rows: int = 0  # window values scored (nulls and infinities left out, as Evidently does)


@dataclass(frozen=True)
class CannotScore:
    """Why a column's drift cannot be scored in this window (a data fact, never a crash)."""

    column: str
    method: str
    reason: Reason
    message: str


def method(name: str, kind: Literal["numeric", "categorical"], column: str = "") -> Method:
    """The method `name` for a column of `kind`; ConfigError when Evidently has no such pairing."""
    found = METHODS.get(ALIASES.get(name, name))
    if found is None or (found.numeric if kind == "numeric" else found.categorical) is None:
        usable = [m for m, v in METHODS.items() if (v.numeric if kind == "numeric" else v.categorical)]
        raise ConfigError(f"drift method {name!r} does not apply to {kind} column {column!r}; "
                          f"use one of {', '.join(usable)}")
    return found


def _shown(value: object) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _sketch_error(chosen: Method, pair: num.Pair, score: float) -> float | None:
    """A proven bound on how far a sketch moves the score (None where no bound is derived)."""
    profile = pair.profile
    error = profile.sketch_error
    if error is None or chosen.name not in BOUNDED_BY_SKETCH:
        return None
    if chosen.name == "wasserstein":
        return error.wasserstein
    if chosen.name == "ed":
        return error.energy
    if chosen.name == "t_test":
        return 0.0
    n, m, d = profile.rows, len(pair.current), pair.pooled.ks
    return max(abs(num.ks_pvalue(max(d - error.ks, 0.0), n, m) - score),
               abs(num.ks_pvalue(min(d + error.ks, 1.0), n, m) - score))


def _score_numeric(chosen: Method, profile: NumericProfile, values: pd.Series | np.ndarray,
                   threshold: float) -> ColumnScore | CannotScore:
    name = profile.name
    try:
        finite, _ = sorted_values(values, name)
    except DataError as exc:
        return CannotScore(name, chosen.name, "not_numeric", str(exc))
    if not len(finite):
        return CannotScore(name, chosen.name, "no_window_values", "no values in this window (all null)")
    for side, count in (("this window", len(finite)), ("the reference", profile.rows)):
        if count < chosen.min_rows:
            return CannotScore(name, chosen.name, "too_few_values",
                               f"{chosen.name} needs at least {chosen.min_rows} values; {side} has {count}")
    pair = num.Pair(profile, finite)
    if chosen.name == "es" and rank.pooled_iqr(pair) == 0:
        return CannotScore(name, chosen.name, "method_precondition",
                           "es needs spread: the interquartile range of reference and window together is 0")
    assert chosen.numeric is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        score = chosen.numeric(pair)
    return ColumnScore(name, chosen.name, score, threshold, chosen.beyond(score, threshold), chosen.direction,
                       exact=(profile.exact or chosen.name == "t_test") and chosen.name not in APPROXIMATE,
                       error=_sketch_error(chosen, pair, score), rows=len(finite))


def _score_categorical(chosen: Method, profile: CategoricalProfile, values: pd.Series | np.ndarray,
                       threshold: float) -> ColumnScore | CannotScore:
    counts, _ = category_counts(values)
    return score_counts(chosen, profile, counts, threshold)


def score_counts(chosen: Method, profile: CategoricalProfile, counts: dict[str, int],
                 threshold: float) -> ColumnScore | CannotScore:
    """A categorical column's score from the window's rows per normalised category (every categorical
    method needs only these)."""
    name = profile.name
    if not counts:
        return CannotScore(name, chosen.name, "no_window_values", "no values in this window (all null)")
    aligned = cat.align(profile.categories, profile.counts, counts)
    if chosen.name == "fisher_exact" and len(aligned.categories) > 2:
        return CannotScore(name, chosen.name, "method_precondition",
                           f"fisher_exact needs two categories; reference and window hold "
                           f"{len(aligned.categories)}")
    assert chosen.categorical is not None
    score = chosen.categorical(aligned)
    return ColumnScore(name, chosen.name, score, threshold, chosen.beyond(score, threshold), chosen.direction,
                       exact=chosen.name not in APPROXIMATE, rows=aligned.m)


def reference_problem(profile: ColumnProfile, method_name: str) -> CannotScore | None:
    """Why no window can be scored against this reference column (no values, or a constant), if so."""
    if profile.rows == 0:
        return CannotScore(profile.name, method_name, "no_reference_values", "no values in the reference (all null)")
    if profile.constant:
        only = profile.values[0] if isinstance(profile, NumericProfile) else profile.categories[0]
        return CannotScore(profile.name, method_name, "constant_reference",
                           f"constant in the reference ({_shown(only)}): drift cannot be scored")
    return None


def score_column(method_name: str, profile: ColumnProfile, current_values: pd.Series | np.ndarray,
                 threshold: float) -> ColumnScore | CannotScore:
    """Score a window's column against the reference profile with `method_name` (a config method name).

    Nulls and infinities are left out on both sides, as Evidently does. Returns `CannotScore` when the
    window or the reference has no values, the reference is constant (every method would mislead: a
    normalised distance divides by a zero spread), or the method's own precondition fails. A method that
    does not apply to the column's kind is a configuration error (ConfigError).
    """
    chosen = method(method_name, profile.kind, profile.name)
    unusable = reference_problem(profile, method_name)
    if unusable is not None:
        return unusable
    if isinstance(profile, NumericProfile):
        return _score_numeric(chosen, profile, current_values, threshold)
    return _score_categorical(chosen, profile, current_values, threshold)
