"""Validate a window of inference data against the model's Great Expectations suite, with quarantine.

Two suite parameters are passed at run time: `window_end` and `freshness_min` (= window end minus the suite's
`meta.driftflow.freshness_lag`, default 1d). Quarantine expectations run first: their failing rows (for a
uniqueness expectation, every copy but the first) are left out, and every other expectation then judges the
rows that remain, which are also the rows drift is measured on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.memory import release_freed_memory
from tasks.monitor.suites import SuiteError, _quiet, action_of, freshness_lag, load_suite
from tasks.results import ExpectationOutcome, ValidationSummary

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core import ExpectationValidationResult

POSITION = "driftflow_position"
UNIQUENESS = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique",
              "expect_select_column_values_to_be_unique_within_record")


@dataclass(frozen=True)
class ValidatedWindow:
    """The suite's verdict on the window, and the rows left after quarantine (the rows to measure)."""

    summary: ValidationSummary
    kept: pd.DataFrame


def _like_column(moment: datetime, column: pd.Series | None) -> pd.Timestamp:
    """`moment` (naive means UTC) in the timezone form of `column`, so GX can compare the two."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    if column is not None and isinstance(column.dtype, pd.DatetimeTZDtype):
        return stamp.tz_convert(column.dtype.tz)
    if column is not None and pd.api.types.is_datetime64_dtype(column.dtype):
        return stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _exception(info: dict[str, Any]) -> str | None:
    """The message of an exception GX caught, whether reported flat or per metric."""
    reports = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = [str(r.get("exception_message")) for r in reports if r.get("raised_exception")]
    return "; ".join(dict.fromkeys(messages)) or None


def _examples(result: dict[str, Any]) -> list[str]:
    """Up to three distinct unexpected values (nulls make no example)."""
    counts = result.get("partial_unexpected_counts")
    values = [c["value"] for c in counts] if counts else result.get("partial_unexpected_list") or []
    shown = [str(v) for v in values if not pd.isna(v)]
    return list(dict.fromkeys(shown))[:3]


def _observed(result: dict[str, Any]) -> str | None:
    if "observed_value" in result:
        return str(result["observed_value"])
    if "unexpected_count" not in result:
        return None
    if not result.get("element_count"):
        return "no rows"
    text = f"{result['unexpected_count']} of {result['element_count']} unexpected"
    sample = _examples(result)
    return f"{text}, e.g. {', '.join(sample)}" if sample and result["unexpected_count"] else text


def _value(raw: Any, parameters: dict[str, Any]) -> tuple[str, str | None]:
    """A bound as text, with the suite parameter it came from."""
    if isinstance(raw, dict) and "$PARAMETER" in raw:
        name = raw["$PARAMETER"]
        return str(parameters.get(name, name)), name
    return str(raw), None


def _expected(kwargs: dict[str, Any], parameters: dict[str, Any]) -> str | None:
    """What the expectation held the window to, in words: 'between -20 and 120', 'in {EWR, JFK, LGA}'."""
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    parts = []
    if low is not None:
        text, name = _value(low, parameters)
        parts.append(f"{'>' if kwargs.get('strict_min') else '>='} {text}" + (f" ({name})" if name else ""))
    if high is not None:
        text, name = _value(high, parameters)
        parts.append(f"{'<' if kwargs.get('strict_max') else '<='} {text}" + (f" ({name})" if name else ""))
    if parts:
        return " and ".join(parts)
    if "value_set" in kwargs and isinstance(kwargs["value_set"], list):
        values = [str(v) for v in kwargs["value_set"]]
        return "in {" + ", ".join(values[:8]) + (f", … {len(values) - 8} more" if len(values) > 8 else "") + "}"
    if "regex" in kwargs:
        return f"matching {kwargs['regex']!r}"
    return None


def _outcome(res: ExpectationValidationResult, config: ModelConfig, parameters: dict[str, Any],
             written: dict[int, dict[str, Any]]) -> ExpectationOutcome:
    """One result as an outcome; `written` holds each expectation's kwargs as the suite file has them."""
    spec = res.expectation_config
    assert spec is not None
    position = (spec.meta or {}).get(POSITION)
    as_written = written.get(position) if position is not None else None
    error = _exception(res.exception_info or {})
    observed = error or _observed(res.result or {})
    count = (res.result or {}).get("unexpected_count")
    severity = cast(Any, spec.severity.value)
    return ExpectationOutcome(
        expectation=spec.type,
        column=spec.kwargs.get("column"),
        severity=severity,
        success=bool(res.success) and error is None,
        observed=observed[:160] if observed else None,
        unexpected_count=None if count is None else int(count),
        action=action_of(spec.meta, severity, config.validation.on_failure),
        position=position,
        expected=_expected(as_written or dict(spec.kwargs), parameters),
    )


def _rows_to_quarantine(res: ExpectationValidationResult, data: pd.DataFrame) -> pd.Index:
    """The failing rows of one quarantine expectation; for uniqueness, every copy but the first."""
    index = pd.Index((res.result or {}).get("unexpected_index_list") or [])
    spec = res.expectation_config
    if len(index) == 0 or spec is None or spec.type not in UNIQUENESS:
        return index
    columns = spec.kwargs.get("column_list") or [spec.kwargs.get("column")]
    copies = data.loc[index, [c for c in columns if c in data]]
    return index[copies.duplicated(keep="first").to_numpy()]


def _run(context: Any, suite: gx.ExpectationSuite, name: str, data: pd.DataFrame,
         parameters: dict[str, Any], result_format: Any) -> list[ExpectationValidationResult]:
    """The suite's results on `data`. The expectations on columns run on a frame of only the columns they read:
    GX's pandas engine takes, for each column check, the rows where that column is not null from its whole
    frame, a copy of the window per check on a wide window, of a few columns here. Copy-on-write makes the
    common case (no nulls: every row) no copy at all, and keeps GX from writing into the window."""
    on_columns, on_table = _by_domain(suite, data)
    release_freed_memory()  # what the steps before freed: GX's temporaries do not stack on it
    results: list[ExpectationValidationResult] = []
    with pd.option_context("mode.copy_on_write", True):
        if on_table.expectations:
            results += _run_on(context, on_table, name, data, parameters, result_format)
        if on_columns.expectations:
            read = list(dict.fromkeys(c for e in on_columns.expectations for c in _columns_read(e)))
            results += _run_on(context, on_columns, f"{name}-columns", data[read], parameters, result_format)
    release_freed_memory()  # GX's temporaries, freed: not kept under the steps that follow
    return results


def _run_on(context: Any, suite: gx.ExpectationSuite, name: str, data: pd.DataFrame,
            parameters: dict[str, Any], result_format: Any) -> list[ExpectationValidationResult]:
    import great_expectations as gx

    _no_batch_hash()

    batch = (context.data_sources.add_pandas(f"window-{name}").add_dataframe_asset(name)
             .add_batch_definition_whole_dataframe("whole"))
    definition = gx.ValidationDefinition(name=name, data=batch, suite=context.suites.add(suite))
    result = definition.run(batch_parameters={"dataframe": data}, expectation_parameters=parameters,
                            result_format=result_format)
    return list(result.results)


def numbered(suite: gx.ExpectationSuite) -> dict[int, dict[str, Any]]:
    """Number the suite's expectations in their meta (results come grouped by column: outcomes keep suite
    order by it) and return each one's kwargs as the suite file has them, by number."""
    written = {}
    for i, expectation in enumerate(suite.expectations):
        expectation.meta = {**(expectation.meta or {}), POSITION: i}
        written[i] = dict(expectation.configuration.kwargs)
    return written


def _no_batch_hash() -> None:
    """GX's pandas engine hashes every frame under 1 GB it is given, for a batch marker
    (`pandas_data_fingerprint`) that only ends up in the result's metadata, which nothing here reads: 0.3-0.4 s
    per frame of a million-row window, twice per run. Frames at or above its `HASH_THRESHOLD` are not hashed;
    a threshold of 0 makes that every frame. The run's own fingerprints are driftflow's (`fingerprint.py`)."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def _columns_read(expectation: Any) -> list[str]:
    """The columns a column, column-pair or multicolumn expectation reads."""
    kwargs = expectation.configuration.kwargs
    return [*(kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs), *kwargs.get("column_list", [])]


def _by_domain(suite: gx.ExpectationSuite,
               data: pd.DataFrame) -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    """The expectations that read only their own columns (present, no row condition: GX reports a missing
    column the same on either frame, but a condition may name any column), and all the others (the table's:
    row count, columns present)."""
    import great_expectations as gx
    from great_expectations.core.metric_domain_types import MetricDomainTypes

    columns = {MetricDomainTypes.COLUMN, MetricDomainTypes.COLUMN_PAIR, MetricDomainTypes.MULTICOLUMN}
    narrow = [e for e in suite.expectations
              if getattr(e, "domain_type", None) in columns and not getattr(e, "row_condition", None)
              and _columns_read(e) and all(c in data for c in _columns_read(e))]
    others = [e for e in suite.expectations if e not in narrow]
    return (gx.ExpectationSuite(name=f"{suite.name}-columns", expectations=narrow),
            gx.ExpectationSuite(name=suite.name, expectations=others))


def _split(suite: gx.ExpectationSuite, config: ModelConfig) -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    """The suite's quarantine expectations, and all the others."""
    import great_expectations as gx

    on_failure = config.validation.on_failure
    quarantine = [e for e in suite.expectations
                  if action_of(e.meta, e.severity.value, on_failure) == "quarantine"]
    others = [e for e in suite.expectations if e not in quarantine]
    return (gx.ExpectationSuite(name=f"{suite.name}-quarantine", expectations=quarantine),
            gx.ExpectationSuite(name=suite.name, expectations=others))


@task(name="validate-window", cache_policy=NO_CACHE)
def validate_window(config: ModelConfig, data: pd.DataFrame, window_end: datetime) -> ValidatedWindow:
    """Run the model's suite on the window; quarantined rows are left out of what is returned for measuring.

    A suite that cannot run gives a summary with `error` set (the window is blocked) and every row kept.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    name = config.validation.suite
    try:
        suite = load_suite(name)
    except SuiteError as exc:
        return ValidatedWindow(ValidationSummary(suite=name, outcomes=[], error=str(exc)), data)
    written = numbered(suite)
    end = _like_column(window_end, data.get(config.source.timestamp))
    parameters = {"window_end": end, "freshness_min": end - freshness_lag(suite)}
    quarantine, others = _split(suite, config)
    try:
        with _quiet():
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            first = _run(context, quarantine, "quarantine", data, parameters,
                         {"result_format": "COMPLETE", "partial_unexpected_count": 5}) \
                if quarantine.expectations else []
            left_out = pd.Index([])
            for res in first:
                left_out = left_out.union(_rows_to_quarantine(res, data))
            kept = data.drop(index=left_out) if len(left_out) else data
            rest = _run(context, others, "window", kept, parameters, "BASIC") if others.expectations else []
    except Exception as exc:
        return ValidatedWindow(ValidationSummary(suite=name, outcomes=[], error=f"suite {name!r} could not run: "
                                                 f"{' '.join(str(exc).split())}"), data)
    outcomes = [_outcome(r, config, parameters, written) for r in [*first, *rest]]
    outcomes.sort(key=lambda o: -1 if o.position is None else o.position)
    if len(data) and len(left_out) > config.validation.max_quarantined * len(data):
        limit = f"{config.validation.max_quarantined:.0%}"
        outcomes = [replace(o, action="block", observed=f"{o.observed}; too many rows to quarantine "
                            f"(more than validation.max_quarantined {limit} of the window)")
                    if o.action == "quarantine" and not o.success else o
                    for o in outcomes]  # too much to leave out: the window itself is broken
        kept = data
    quarantined = len(data) - len(kept)
    return ValidatedWindow(ValidationSummary(suite=name, outcomes=outcomes, quarantined_rows=quarantined), kept)
