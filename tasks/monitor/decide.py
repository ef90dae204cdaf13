"""The verdict policy: one window's measurements and the model's recent history in, a verdict out.

`decide_verdict` is the Prefect task `decide-verdict`; `decide_verdict.fn` is the pure policy (no I/O, no
clock, no Prefect needed), which the unit tests call. The rules, in order:

1. an empty window is `insufficient_data` (its failing row-count expectation is a consequence, not the cause);
2. a failed blocking expectation is `data_invalid` (invalid data never counts as drift); its reasons keep
   the warning-level findings and the quarantined rows next to the blocking failures;
3. fewer rows than `policy.min_rows` is `insufficient_data`;
4. each signal has a severity:
   - concept drift is a breach when the performance drop's confidence bound (reference - ci_high for a
     higher-is-better metric) exceeds the allowance, and severe beyond `policy.severe.factor` times it; a
     point drop beyond the allowance that the interval does not confirm is a breach when the run of
     consecutive windows with such drops, this one last (at least `persistence.breaches` of them, at most
     `of_last`), confirms it with their labelled rows pooled (`pooled.py`), and only warns otherwise;
   - dataset drift (a share of drifted features of at least `drift.dataset_share`), prediction drift and
     target drift warn, unless the model's YAML opts them into breaches (`drift.severity`, carried by each
     ColumnDrift); fewer drifted features than the share warn;
   - the label-free performance estimate breaches only with `performance.estimate: breach` and a
     calibration that supports it, and warns otherwise;
5. a breach is `drift` when at least `breaches` of the last `of_last` scheduled windows breached (a window
   without a record counts as no breach) or when a pooled drop confirmed it, otherwise `warn`; a severe
   breach is `drift` at once when `policy.severe.skips_persistence`;
6. anything else worth a look (unmeasured columns, failed warning-level expectations, quarantined rows) is
   `warn`; a clean window is `ok`. Notes (how false alarms were controlled, reference-level remarks) are
   said but change nothing.

Reasons lead with the most severe signal: severe breaches, breaches, the persistence count, warnings, notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig, PersistenceConfig
from tasks.monitor.pooled import pooled_drop
from tasks.monitor.scores import ALIASES, METHODS
from tasks.results import ColumnDrift, DriftSummary, ExpectationOutcome, PerformanceSummary, ValidationSummary, Verdict

# Measurements arrive as floats: a drop of 0.72 - 0.67 must not breach a max_drop of 0.05.
TOLERANCE = 1e-9
NOTE, WARN, BREACH, SEVERE = 0, 1, 2, 3


@dataclass(frozen=True)
class Signal:
    """One finding of the window and how much it weighs."""

    level: int  # NOTE, WARN, BREACH or SEVERE
    text: str
    windows: int = 1  # how many consecutive windows' evidence confirms it (a pooled drop: more than one)


def _num(value: float) -> str:
    """A number with at most 3 decimals and no trailing zeros (0.62, 0.091, 3); small ones in 2 digits (0.0012)."""
    if value != 0 and abs(value) < 0.01:
        return format(value, ".2g")
    text = f"{value + 0.0:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _value(value: float | None) -> str:
    return "n/a" if value is None else _num(value)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


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


def _validation_findings(validation: ValidationSummary) -> list[str]:
    """Warning-level failures and quarantined rows: reported whether or not the window is blocked."""
    findings = [f"{_failure(o)} ({o.severity})" for o in validation.warnings]
    if validation.quarantined_rows:
        findings.append(f"quarantined {_plural(validation.quarantined_rows, 'row')}: "
                        + "; ".join(_failure(o) for o in validation.quarantines))
    return findings


def _higher_means_drift(method_name: str) -> bool:
    """Distances grow with drift, p-values shrink; an unknown method is read as a distance."""
    found = METHODS.get(ALIASES.get(method_name, method_name))
    return found is None or found.direction == "higher"


def _column(drift: ColumnDrift) -> str:
    """'temp 1.43 > 1.21, the p99 of 24 reference chunks (p 0.0004)'."""
    if drift.score is None:
        return f"{drift.column} not measured ({drift.issue or 'no score'})"
    higher = _higher_means_drift(drift.method)
    beyond = drift.score > drift.threshold if higher else drift.score < drift.threshold
    sign = (">" if beyond else "<=") if higher else ("<" if beyond else ">=")
    tail = "" if drift.p_value is None else f" (p {_num(drift.p_value)})"
    return f"{drift.column} {_num(drift.score)} {sign} {_num(drift.threshold)}, {drift.threshold_source}{tail}"


def _insufficient(row_count: int, min_rows: int) -> Verdict:
    have = "the window is empty" if row_count == 0 else f"the window has {_plural(row_count, 'row')}"
    reason = f"{have}; the policy needs at least {_plural(min_rows, 'row')}"
    return Verdict("insufficient_data", [reason], breach=False)


def _opted(severity: str) -> tuple[int, str]:
    """The level of an opt-in drift signal and how its reason is labelled."""
    return (BREACH, "") if severity == "breach" else (WARN, " (a warning)")


def _feature_drift(drift: DriftSummary, config: ModelConfig) -> list[Signal]:
    """Dataset drift once the drifted share reaches `dataset_share` (a breach only if opted in), else a warning."""
    drifted = drift.drifted_features
    if not drifted:
        return []
    measured = [c for c in drift.features if c.score is not None]
    share, needed = drift.drift_share, config.drift.dataset_share
    listed = "; ".join(_column(c) for c in drifted)
    counted = f"{len(drifted)} of {len(measured)} features drifted"
    control = [Signal(NOTE, f"false alarms across features: {drift.false_alarm_control}")] \
        if drift.false_alarm_control else []
    if share >= needed - TOLERANCE:
        level, label = _opted("breach" if any(c.severity == "breach" for c in drifted) else "warn")
        return [Signal(level, f"dataset drift{label}: {counted} (share {_num(share)} >= {_num(needed)}): {listed}"),
                *control]
    return [Signal(WARN, f"{counted} (share {_num(share)} < {_num(needed)}, not dataset drift): {listed}"), *control]


def _single_drift(column: ColumnDrift | None, name: str) -> list[Signal]:
    """Prediction or target drift: a warning unless the model opted it into breaches."""
    if column is None or not column.drifted:
        return []
    level, label = _opted(column.severity)
    return [Signal(level, f"{name} drift{label}: {_column(column)}")]


def _allowance(perf: PerformanceSummary, config: ModelConfig) -> tuple[float | None, str]:
    """The allowed drop as measured, else resolved from the configuration alone, and how to say it:
    'allowed 0.024 (2sd: twice the spread (0.012) of 24 reference chunks)', 'allowed 0.05'."""
    if perf.allowance is not None:
        source = f" ({perf.allowance_source})" if perf.allowance_source else ""
        return perf.allowance, f"allowed {_num(perf.allowance)}{source}"
    max_drop = config.performance.max_drop
    allowance = max_drop.resolve(perf.reference_value, None)
    if allowance is None:
        return None, ""
    if max_drop.unit == "relative":
        return allowance, f"allowed {_num(allowance)} ({max_drop} of the reference {_value(perf.reference_value)})"
    return allowance, f"allowed {_num(allowance)}"


def _oriented(perf: PerformanceSummary, value: float) -> float:
    """How much worse `value` is than the reference (positive = worse)."""
    assert perf.reference_value is not None
    gap = perf.reference_value - value
    return gap if perf.higher_is_better else -gap


def _pooled(perf: PerformanceSummary, recent: Sequence[PerformanceSummary | None], config: ModelConfig,
            head: str, allowed: str, labelled: str) -> list[Signal]:
    """A point drop beyond the allowance that this window's interval does not confirm: a breach when the run of
    windows with such drops, this one last, confirms it together (persistent by construction), else a warning."""
    settings, rule = config.performance, config.policy.persistence
    confidence = f"{settings.confidence * 100:g}%"
    assert perf.drop is not None
    pooled = pooled_drop(perf, recent, confidence=settings.confidence, span=rule.of_last)
    if pooled is not None and pooled.confirmed and pooled.windows >= rule.breaches:
        return [Signal(BREACH, f"concept drift: {head}: drop {_num(perf.drop)} > {allowed} on {labelled}; in each "
                               f"of the last {pooled.windows} windows the drop exceeds its allowance, and their "
                               f"{pooled.labelled_rows:,} labelled rows together put the excess at "
                               f"{_num(pooled.excess)}, at least {_num(pooled.low)} at {confidence} confidence",
                       windows=pooled.windows)]
    return [Signal(WARN, f"{head}: drop {_num(perf.drop)} > {allowed}, but within the {confidence} confidence "
                         f"interval of {labelled} (not concept drift)")]


def _performance(perf: PerformanceSummary, config: ModelConfig,
                 recent: Sequence[PerformanceSummary | None] = ()) -> list[Signal]:
    """Concept drift: a breach when the drop's confidence bound exceeds the allowance, severe far beyond it, or
    when consecutive windows' drops beyond the allowance confirm it together."""
    settings = config.performance
    labelled = _plural(perf.labelled_rows, "labelled row")
    if perf.labelled_rows < settings.min_labelled_rows:
        return [Signal(WARN, f"concept drift not checked: {labelled}, the policy needs at least "
                             f"{settings.min_labelled_rows:,}")]
    if perf.value is None:
        return [Signal(WARN, f"concept drift not checked: {perf.metric} could not be computed on {labelled}")]
    if perf.reference_value is None or perf.drop is None:
        return [Signal(WARN, f"concept drift not checked: the reference has no {perf.metric} value")]
    allowance, allowed = _allowance(perf, config)
    if allowance is None:
        return [Signal(WARN, f"concept drift not checked: allowance {settings.max_drop} needs the reference's "
                             "chunk spread")]
    confidence = f"{settings.confidence * 100:g}%"
    has_interval = perf.ci_low is not None and perf.ci_high is not None
    interval = f" ({confidence} CI {_num(perf.ci_low or 0)}–{_num(perf.ci_high or 0)})" if has_interval else ""
    edge = perf.ci_high if perf.higher_is_better else perf.ci_low
    bound = perf.drop if edge is None else _oriented(perf, edge)
    head = f"{perf.metric} {_num(perf.value)}{interval} vs reference {_num(perf.reference_value)}"
    if bound > allowance + TOLERANCE:
        factor = config.policy.severe.factor
        severe = bound > factor * allowance + TOLERANCE
        least = "" if edge is None else f", at least {_num(bound)} at {confidence} confidence,"
        text = f"concept drift: {head}: drop {_num(perf.drop)}{least} > {allowed} on {labelled}"
        if severe:
            return [Signal(SEVERE, f"severe {text}; more than {factor:g} times the allowance")]
        return [Signal(BREACH, text)]
    if perf.drop > allowance + TOLERANCE:
        return _pooled(replace(perf, allowance=allowance), recent, config, head, allowed, labelled)
    return []


def _estimate(perf: PerformanceSummary, config: ModelConfig) -> list[Signal]:
    """The label-free estimate's drop: a breach only with `performance.estimate: breach` and trusted."""
    wanted = config.performance.estimate
    if wanted == "off":
        return []
    if perf.estimated_value is None:
        return [Signal(NOTE, f"performance not estimated: {perf.estimated_method or 'no estimate was made'}")]
    if perf.reference_value is None:
        return [Signal(NOTE, f"estimated {perf.metric} {_num(perf.estimated_value)}: the reference has no "
                             f"{perf.metric} value to compare with")]
    allowance, allowed = _allowance(perf, config)
    drop = _oriented(perf, perf.estimated_value)
    if allowance is None or drop <= allowance + TOLERANCE:
        return []
    method = f" ({perf.estimated_method})" if perf.estimated_method else ""
    text = (f"estimated concept drift: {perf.metric} estimated {_num(perf.estimated_value)} vs reference "
            f"{_num(perf.reference_value)}: drop {_num(drop)} > {allowed}{method}")
    if wanted == "breach" and perf.estimate_trusted:
        return [Signal(BREACH, text)]
    if wanted == "breach":
        return [Signal(WARN, f"{text}; not a breach: the probabilities are not calibrated enough to trust")]
    return [Signal(WARN, text)]


def _measurement_issues(drift: DriftSummary) -> list[Signal]:
    unmeasured = [Signal(WARN, f"{c.kind} column {c.column} could not be measured: {c.issue or 'no score'}")
                  for c in drift.columns if c.score is None and (c.issue or not c.note)]  # a note is said once
    flagged = [Signal(WARN, f"{c.kind} column {c.column}: {c.issue}")
               for c in drift.columns if c.score is not None and c.issue]
    return [*unmeasured, *flagged]


def _persistence(history: Sequence[bool | None], persistence: PersistenceConfig) -> tuple[int, bool, int]:
    """Breaches in the last `of_last` scheduled windows (this breaching one included), whether they suffice,
    and how many of the previous scheduled windows have no record (counted as no breach)."""
    previous = list(history)[max(0, len(history) - (persistence.of_last - 1)):]  # of_last=1 keeps none
    previous += [None] * max(0, persistence.of_last - 1 - len(previous))
    count = sum(bool(flag) for flag in previous) + 1
    return count, count >= persistence.breaches, sum(flag is None for flag in previous)


def _persistence_reason(count: int, persistent: bool, missing: int, config: ModelConfig, severe: bool,
                        pooled: int) -> str:
    rule = config.policy.persistence
    breached = f"{count} of the last {_plural(rule.of_last, 'scheduled window')} breached"
    if missing:
        breached += f" ({missing} without a record, counted as no breach)"
    if pooled >= rule.breaches and not persistent:
        return f"{breached}; the drop persisted in {pooled} consecutive windows, confirmed by their labelled rows " \
               f"together (drift needs {rule.breaches})"
    if persistent:
        return f"{breached} (drift needs {rule.breaches})"
    if severe and config.policy.severe.skips_persistence:
        return f"{breached}; a severe breach is drift without waiting for {rule.breaches}"
    return f"{breached}; drift needs {rule.breaches}"


@task(name="decide-verdict", cache_policy=NO_CACHE)
def decide_verdict(*, config: ModelConfig, row_count: int, validation: ValidationSummary,
                   drift: DriftSummary | None, history: Sequence[bool | None],
                   recent: Sequence[PerformanceSummary | None] = ()) -> Verdict:
    """Decide one window's verdict.

    `history`: breach flags of this model's previous scheduled windows, most recent last, None for a
    scheduled window without a record (older ones than `of_last - 1` are ignored; missing ones count as no
    breach). `recent`: the same windows' recorded performance (None where there is none), for a drop that
    only consecutive windows together confirm.
    """
    policy = config.policy
    if row_count == 0 and not validation.unreadable:
        return _insufficient(row_count, policy.min_rows)
    failures = _critical_failures(validation)
    findings = _validation_findings(validation)
    if failures:
        return Verdict("data_invalid", [*failures, *findings], breach=False)
    if row_count < policy.min_rows:
        return _insufficient(row_count, policy.min_rows)
    if drift is None:
        return Verdict("warn", ["drift was not measured for this window", *findings], breach=False)

    signals = [*_performance(drift.performance, config, recent), *_estimate(drift.performance, config),
               *_feature_drift(drift, config), *_single_drift(drift.of_kind("prediction"), "prediction"),
               *_single_drift(drift.of_kind("target"), "target"), *(Signal(WARN, f) for f in findings),
               *_measurement_issues(drift), *(Signal(NOTE, n) for n in drift.notes)]
    signals.sort(key=lambda s: -s.level)  # stable: signals of one level keep their order
    drifted_columns = [c.column for c in drift.columns if c.drifted and c.kind != "target"]
    breaches = [s.text for s in signals if s.level >= BREACH]
    warnings = [s.text for s in signals if s.level == WARN]
    notes = [s.text for s in signals if s.level == NOTE]
    severe = any(s.level == SEVERE for s in signals)

    if breaches:
        count, persistent, missing = _persistence(history, policy.persistence)
        pooled = max(s.windows for s in signals if s.level >= BREACH)
        is_drift = persistent or pooled >= policy.persistence.breaches or (severe and policy.severe.skips_persistence)
        reasons = [*breaches, _persistence_reason(count, persistent, missing, config, severe, pooled), *warnings,
                   *notes]
        return Verdict("drift" if is_drift else "warn", reasons, breach=True, drifted_columns=drifted_columns,
                       severe=severe)
    if warnings:
        return Verdict("warn", [*warnings, *notes], breach=False, drifted_columns=drifted_columns)
    perf = drift.performance
    summary = (f"no drift: 0 of {len(drift.features)} features drifted, {perf.metric} {_value(perf.value)} "
               f"(reference {_value(perf.reference_value)})")
    return Verdict("ok", [summary, *notes], breach=False)
