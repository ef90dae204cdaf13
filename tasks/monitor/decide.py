"""The verdict policy: one window's measurements and the model's recent history in, a verdict out.

`decide_verdict` is the Prefect task `decide-verdict`; `decide_verdict.fn` is the pure policy (no I/O, no
clock, no Prefect needed), which the unit tests call. The rules, in order:

1. an empty window is `insufficient_data` (its failing row-count expectation is a consequence, not the cause);
2. a failed validation with `on_failure: block` is `data_invalid`: invalid data never counts as drift;
3. fewer rows than `policy.min_rows` is `insufficient_data`;
4. this window breaches on dataset drift, prediction drift or concept drift (target drift alone only warns);
   a breach is `drift` when at least `breaches` of the last `of_last` windows breached, otherwise `warn`;
5. anything else worth a look (drifted features, target drift, failed non-critical expectations, unmeasured
   columns or performance) is `warn`; a clean window is `ok`.
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig, PersistenceConfig
from tasks.results import ColumnDrift, DriftSummary, ExpectationOutcome, ValidationSummary, Verdict

# Measurements arrive as floats: a drop of 0.72 - 0.67 must not breach a max_drop of 0.05.
TOLERANCE = 1e-9


def _num(value: float) -> str:
    """A number with at most 3 decimals and no trailing zeros: 0.62, 0.091, 3."""
    text = f"{value + 0.0:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _value(value: float | None) -> str:
    return "n/a" if value is None else _num(value)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _failure(outcome: ExpectationOutcome) -> str:
    """'expect_column_values_to_be_between on temp failed: 50 of 1000 unexpected, e.g. 150.0 (50 unexpected rows;
    expected >= -20 and <= 120)'."""
    head = outcome.expectation + (f" on {outcome.column}" if outcome.column else "") + " failed"
    details = [] if outcome.unexpected_count is None else [_plural(outcome.unexpected_count, "unexpected row")]
    if outcome.expected:
        details.append(f"expected {outcome.expected}")
    tail = f" ({'; '.join(details)})" if details else ""
    if outcome.observed:
        return f"{head}: {outcome.observed}{tail}"
    return f"{head}{': ' + '; '.join(details) if details else ''}"


def _critical_failures(validation: ValidationSummary) -> list[str]:
    failures = [_failure(o) for o in validation.blocking_failures]
    if validation.error:
        failures.insert(0, f"suite {validation.suite} could not be evaluated: {validation.error}")
    return failures


def _column(drift: ColumnDrift) -> str:
    score = "not measured" if drift.score is None else _num(drift.score)
    return f"{drift.column} ({drift.method} {score}, threshold {_num(drift.threshold)})"


def _insufficient(row_count: int, min_rows: int) -> Verdict:
    have = "the window is empty" if row_count == 0 else f"the window has {_plural(row_count, 'row')}"
    reason = f"{have}; the policy needs at least {_plural(min_rows, 'row')}"
    return Verdict("insufficient_data", [reason], breach=False)


def _feature_drift(drift: DriftSummary, config: ModelConfig) -> tuple[str | None, str | None]:
    """(breach reason, warn reason) for the features: a breach once the drifted share reaches it."""
    drifted = drift.drifted_features
    if not drifted:
        return None, None
    measured = [c for c in drift.features if c.score is not None]
    share, needed = drift.drift_share, config.drift.dataset_share
    listed = ", ".join(_column(c) for c in drifted)
    counted = f"{len(drifted)} of {len(measured)} features drifted"
    if share >= needed - TOLERANCE:
        return f"dataset drift: {counted} (share {_num(share)} >= {_num(needed)}): {listed}", None
    return None, f"{counted} (share {_num(share)} < {_num(needed)}, not dataset drift): {listed}"


def _performance(drift: DriftSummary, config: ModelConfig) -> tuple[str | None, str | None]:
    """(breach reason, warn reason) for concept drift: performance worse than the reference by > max_drop."""
    perf, allowed = drift.performance, config.performance
    if perf.labelled_rows < allowed.min_labelled_rows:
        return None, (f"concept drift not checked: {_plural(perf.labelled_rows, 'labelled row')}, "
                      f"the policy needs at least {allowed.min_labelled_rows}")
    if perf.value is None:
        return None, (f"concept drift not checked: {perf.metric} could not be computed on "
                      f"{_plural(perf.labelled_rows, 'labelled row')}")
    if perf.reference_value is None or perf.drop is None:
        return None, f"concept drift not checked: the reference has no {perf.metric} value"
    allowance = allowed.max_drop.resolve(perf.reference_value, None)
    if allowance is None:
        return None, f"concept drift not checked: allowance {allowed.max_drop} needs the reference's chunk spread"
    if perf.drop > allowance + TOLERANCE:
        return (f"concept drift: {perf.metric} {_num(perf.value)} vs reference {_num(perf.reference_value)} "
                f"(drop {_num(perf.drop)} > allowed {_num(allowance)}) on "
                f"{_plural(perf.labelled_rows, 'labelled row')}"), None
    return None, None


def _persistence(history: Sequence[bool | None], persistence: PersistenceConfig) -> tuple[int, bool]:
    """Breaches in the last `of_last` windows (this breaching one included), and whether they suffice."""
    previous = list(history)[max(0, len(history) - (persistence.of_last - 1)):]  # of_last=1 keeps none
    count = sum(bool(flag) for flag in previous) + 1
    return count, count >= persistence.breaches


@task(name="decide-verdict", cache_policy=NO_CACHE)
def decide_verdict(*, config: ModelConfig, row_count: int, validation: ValidationSummary,
                   drift: DriftSummary | None, history: Sequence[bool | None]) -> Verdict:
    """Decide one window's verdict.

    `history`: breach flags of this model's previous windows, most recent last (at least `of_last - 1` of
    them; older ones are ignored, missing ones count as no breach).
    """
    policy = config.policy
    if row_count == 0:
        return _insufficient(row_count, policy.min_rows)
    failures = _critical_failures(validation)
    if failures:
        return Verdict("data_invalid", failures, breach=False)
    if row_count < policy.min_rows:
        return _insufficient(row_count, policy.min_rows)

    notes = [f"{_failure(o)} ({o.severity})" for o in validation.warnings]
    if validation.quarantined_rows:
        notes.append(f"quarantined {_plural(validation.quarantined_rows, 'row')}: "
                     + "; ".join(_failure(o) for o in validation.quarantines))
    if drift is None:
        return Verdict("warn", ["drift was not measured for this window", *notes], breach=False)

    notes += [f"{c.kind} column {c.column} could not be measured: {c.issue or 'no score'}"
              for c in drift.columns if c.score is None]
    notes += [f"{c.kind} column {c.column}: {c.issue}" for c in drift.columns if c.score is not None and c.issue]
    prediction, target = drift.of_kind("prediction"), drift.of_kind("target")
    dataset_breach, feature_note = _feature_drift(drift, config)
    concept_breach, performance_note = _performance(drift, config)
    breaches = [r for r in (dataset_breach, concept_breach) if r]
    if prediction is not None and prediction.drifted:
        breaches.append(f"prediction drift: {_column(prediction)}")
    if target is not None and target.drifted:
        notes.append(f"target drift (not a breach on its own): {_column(target)}")
    notes += [r for r in (feature_note, performance_note) if r]
    drifted_columns = [c.column for c in drift.columns if c.drifted and c.kind != "target"]

    if breaches:
        count, persistent = _persistence(history, policy.persistence)
        needed, of_last = policy.persistence.breaches, policy.persistence.of_last
        breached = f"{count} of the last {_plural(of_last, 'window')} breached"
        if persistent:
            return Verdict("drift", [*breaches, f"{breached} (drift needs {needed})", *notes],
                           breach=True, drifted_columns=drifted_columns)
        return Verdict("warn", [*breaches, f"{breached}; drift needs {needed}", *notes],
                       breach=True, drifted_columns=drifted_columns)
    if notes:
        return Verdict("warn", notes, breach=False, drifted_columns=drifted_columns)
    perf = drift.performance
    summary = (f"no drift: 0 of {len(drift.features)} features drifted, {perf.metric} {_value(perf.value)} "
               f"(reference {_value(perf.reference_value)})")
    return Verdict("ok", [summary], breach=False)
