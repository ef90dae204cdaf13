"""Great Expectations suites of monitored models: `expectations/<suite>.json` (GX 1.x JSON), loaded whole.

GX logs and then silently skips an expectation it cannot build; here every expectation is built on its own
first, so a suite either loads with all of its expectations or its problems are reported by file and index.

Each expectation has an action for when it fails: `block` (the window is data_invalid), `quarantine` (the
failing rows are left out and counted; the rest is measured) or `warn`. It is read from
`meta.driftflow.action`; without one, a critical expectation takes `validation.on_failure` and any other warns.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from tasks.errors import ConfigError
from tasks.results import ExpectationAction
from tasks.settings import expectations_dir

if TYPE_CHECKING:
    import great_expectations as gx

# GX is imported inside the functions: `import great_expectations` costs ~5 s and ~280 MB.

DEFAULT_FRESHNESS_LAG = timedelta(days=1)
Severity = Literal["critical", "warning", "info"]
ACTIONS = ("block", "quarantine", "warn")
# Row-level expectations: their failing rows can be identified, so they can be quarantined.
ROW_LEVEL = ("expect_column_values_to_", "expect_compound_columns_to_be_unique",
             "expect_select_column_values_to_be_unique_within_record", "expect_multicolumn_")


class SuiteError(ConfigError):
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
    problems = [f"{path}: expectations[{i}] ({item.get('type', '?')}): {p}"
                for i, item in enumerate(raw["expectations"]) if isinstance(item, dict)
                for p in _action_problems(item)]
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


def _action_problems(item: dict[str, Any]) -> list[str]:
    action = ((item.get("meta") or {}).get("driftflow") or {}).get("action")
    if action is None:
        return []
    if action not in ACTIONS:
        return [f"meta.driftflow.action {action!r} is not one of {', '.join(ACTIONS)}"]
    if action == "quarantine" and not str(item.get("type", "")).startswith(ROW_LEVEL):
        return ["meta.driftflow.action 'quarantine' needs a row-level expectation (expect_column_values_to_…), "
                "whose failing rows can be left out"]
    return []


def action_of(meta: dict[str, Any] | None, severity: str, on_failure: str) -> ExpectationAction:
    """What a failure of this expectation does: its own action, else block/warn by severity."""
    action = ((meta or {}).get("driftflow") or {}).get("action")
    if action in ACTIONS:
        return cast(ExpectationAction, action)
    return cast(ExpectationAction, on_failure if severity == "critical" else "warn")


def freshness_lag(suite: gx.ExpectationSuite) -> timedelta:
    """The suite's `meta.driftflow.freshness_lag` (default 1d): how old the newest row may be."""
    from tasks.config import parse_duration

    return parse_duration((suite.meta or {}).get("driftflow", {}).get("freshness_lag", DEFAULT_FRESHNESS_LAG))
