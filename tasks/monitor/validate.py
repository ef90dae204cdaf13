"""Validate a window of inference data against the model's Great Expectations suite.

Suites live in `expectations/<suite>.json` (GX 1.x JSON). Two suite parameters are passed at run time:
`window_end` and `freshness_min` (= window end minus the suite's `meta.driftflow.freshness_lag`, default 1d).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig, parse_duration
from tasks.results import ExpectationOutcome, ValidationSummary
from tasks.settings import expectations_dir

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core import ExpectationValidationResult

# GX is imported inside the functions: `import great_expectations` costs ~5 s and ~280 MB.

DEFAULT_FRESHNESS_LAG = timedelta(days=1)
Severity = Literal["critical", "warning", "info"]


class SuiteError(ValueError):
    """An expectation suite that cannot be used; the message names the file."""


def suite_path(name: str) -> Path:
    return expectations_dir() / f"{name}.json"


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep GX's log records to itself: it logs (then skips) invalid expectations; we report them."""
    logger, muffler = logging.getLogger("great_expectations"), logging.NullHandler()
    logger.addHandler(muffler)  # with a handler in the chain, Python's last-resort stderr handler stays quiet
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = True
        logger.removeHandler(muffler)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _read(name: str) -> tuple[gx.ExpectationSuite | None, list[str]]:
    """The suite and every problem found in its file (the suite is None when it cannot be used)."""
    from great_expectations import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    path = suite_path(name)
    if not path.is_file():
        return None, [f"{path}: no such expectation suite"]
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        return None, [f"{path}: not valid JSON: {exc}"]
    if not isinstance(raw, dict) or not isinstance(raw.get("expectations"), list):
        return None, [f"{path}: expected an object with a list of 'expectations'"]
    problems = []
    with _quiet():
        for i, item in enumerate(raw["expectations"]):
            try:  # GX skips unknown types and bad severities silently: build each one to get the reason
                ExpectationConfiguration(**item).to_domain_obj()
            except Exception as exc:
                kind = item.get("type", "?") if isinstance(item, dict) else "?"
                problems.append(f"{path}: expectations[{i}] ({kind}): {_one_line(exc)}")
        try:
            suite = ExpectationSuite(**raw)
        except Exception as exc:
            return None, [*problems, f"{path}: not a valid suite: {_one_line(exc)}"]
    if len(suite.expectations) != len(raw["expectations"]):
        kept, written = len(suite.expectations), len(raw["expectations"])
        problems.append(f"{path}: GX kept {kept} of {written} expectations")
    return (None if problems else suite), problems


def check_suite(name: str) -> list[str]:
    """Problems with `expectations/<name>.json` (missing, not JSON, invalid expectations); [] if usable."""
    return _read(name)[1]


def load_suite(name: str) -> gx.ExpectationSuite:
    """Load `expectations/<name>.json`, raising SuiteError unless GX keeps every expectation in the file."""
    suite, problems = _read(name)
    if suite is None:
        raise SuiteError("\n".join(problems))
    return suite


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


def _observed(result: dict[str, Any]) -> str | None:
    if "observed_value" in result:
        return str(result["observed_value"])
    if "unexpected_count" not in result:
        return None
    if not result.get("element_count"):
        return "no rows"
    text = f"{result['unexpected_count']} of {result['element_count']} unexpected"
    counts = result.get("partial_unexpected_counts") or []
    sample = [str(c["value"]) for c in counts if not pd.isna(c["value"])][:3]  # nulls make no example
    return f"{text}, e.g. {', '.join(sample)}" if sample and result["unexpected_count"] else text


def _outcome(res: ExpectationValidationResult) -> ExpectationOutcome:
    config = res.expectation_config
    assert config is not None
    error = _exception(res.exception_info or {})
    observed = error or _observed(res.result or {})
    count = (res.result or {}).get("unexpected_count")
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column"),
        severity=cast(Severity, config.severity.value),
        success=bool(res.success) and error is None,
        observed=observed[:120] if observed else None,
        unexpected_count=None if count is None else int(count),
    )


@task(name="validate-window", cache_policy=NO_CACHE)
def validate_window(config: ModelConfig, data: pd.DataFrame, window_end: datetime) -> ValidationSummary:
    """Run the model's suite on the window; a suite that cannot run gives a summary with `error` set."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    name = config.validation.suite
    try:
        suite = load_suite(name)
    except SuiteError as exc:
        return ValidationSummary(suite=name, outcomes=[], error=str(exc))
    lag = parse_duration((suite.meta or {}).get("driftflow", {}).get("freshness_lag", DEFAULT_FRESHNESS_LAG))
    timestamps = data.get(config.source.timestamp)
    end = _like_column(window_end, timestamps)
    parameters = {"window_end": end, "freshness_min": end - lag}
    try:
        with _quiet():
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            batch = (context.data_sources.add_pandas("window").add_dataframe_asset(config.name)
                     .add_batch_definition_whole_dataframe("whole"))
            definition = gx.ValidationDefinition(name=name, data=batch, suite=context.suites.add(suite))
            result = definition.run(batch_parameters={"dataframe": data}, expectation_parameters=parameters)
    except Exception as exc:
        return ValidationSummary(suite=name, outcomes=[], error=f"suite {name!r} could not run: {exc}")
    return ValidationSummary(suite=name, outcomes=[_outcome(r) for r in result.results])
