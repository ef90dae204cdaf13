"""An expectation suite profiled from the reference window the user names.

What the reference shows becomes a bound with a margin: columns exist; the id is unique and never NULL; each
column's NULL share stays near the reference's; numbers stay in the reference's range widened by a tenth of
it; categories stay in the reference's set; each window holds about as many rows as the reference's own
windows of the schedule's size; the newest row is fresh. Bounds learned from one period are guesses about
the next, so value ranges and sets warn (edit them to hard limits and make them critical where a value
outside them is an error); repeated ids are quarantined (the first row of each is measured); what is
structurally wrong blocks.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from tasks.config import ModelConfig
from tasks.schedule import window_ends, window_start

RANGE_MARGIN = 0.1  # ranges widened by a tenth of the reference's span on each side
MOSTLY = 0.99  # row-level bounds tolerate 1 % of stray rows
MAX_SET = 50  # categories beyond this many are not listed (a set that long changes anyway)


def window_counts(config: ModelConfig, times: pd.Series, start: datetime, end: datetime) -> list[int]:
    """Rows in each whole window of the schedule that fits inside [start, end)."""
    stamps = pd.to_datetime(times, utc=True)
    counts = []
    for tick in window_ends(config, start, end):
        opens = window_start(config, tick)
        if opens >= start and tick <= end:
            counts.append(int(((stamps >= opens) & (stamps < tick)).sum()))
    return counts


def min_rows_for(counts: list[int]) -> int:
    """policy.min_rows: half the smallest reference window (a window that small is too thin to judge)."""
    return max(1, min(500, min(counts) // 2)) if counts else 500


def holdout_rows_for(reference_rows: int, reference_span: timedelta, holdout: timedelta) -> int:
    """retraining.promote_if.min_holdout_rows: half the rows a holdout of this length held in the reference on
    average (at most the default 200), so a holdout of the schedule's usual size is never too small to judge."""
    expected = reference_rows * (holdout / reference_span) if reference_span > timedelta(0) else 0.0
    return max(1, min(200, int(expected // 2)))


def freshness_lag(times: pd.Series) -> str:
    """How old the newest row of a window may be: twice the usual gap between rows (at least an hour)."""
    stamps = pd.to_datetime(times, utc=True).dropna().sort_values()
    gaps = stamps.diff().dropna()
    usual = gaps.dt.total_seconds().quantile(0.99) if len(gaps) else 12 * 3600.0
    hours = max(1, math.ceil(2 * float(usual) / 3600))
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


def profile_suite(config: ModelConfig, reference: pd.DataFrame, counts: list[int], start: datetime,
                  end: datetime) -> dict[str, Any]:
    """The suite (GX 1.x JSON shape) for `config`, bounds learned from the `reference` rows."""
    src, cols = config.source, config.columns
    out: list[dict[str, Any]] = [_expect(
        "expect_table_row_count_to_be_between", {"min_value": 1}, "critical",
        "An empty window cannot be validated; small windows are the policy's call (policy.min_rows).")]
    if counts:
        low, high = max(1, math.floor(min(counts) * 0.5)), math.ceil(max(counts) * 1.5)
        out.append(_expect("expect_table_row_count_to_be_between", {"min_value": low, "max_value": high},
                           "warning", f"Reference windows held {min(counts)} to {max(counts)} rows; half the "
                           "smallest to 1.5 times the largest."))
    out += [_expect("expect_column_to_exist", {"column": c}, "critical") for c in config.monitored_columns]
    out += [_expect("expect_column_values_to_not_be_null", {"column": src.id}, "critical"),
            _expect("expect_column_values_to_be_unique", {"column": src.id}, "critical",
                    "One row per prediction: duplicates mean a bad join or a replay. The copies are quarantined "
                    "(the first row of each id is measured, the others counted in the verdict); more than "
                    "validation.max_quarantined of the window blocks it.", action="quarantine"),
            _expect("expect_column_values_to_not_be_null", {"column": src.timestamp}, "critical"),
            _expect("expect_column_max_to_be_between",
                    {"column": src.timestamp, "min_value": {"$PARAMETER": "freshness_min"},
                     "max_value": {"$PARAMETER": "window_end"}, "strict_max": True}, "critical",
                    "Freshness: the newest row is at most `freshness_lag` (suite meta) older than the window end.")]
    for column in [*cols.features, cols.prediction]:
        if column in reference:
            out += _nulls(column, reference[column])
    for column in cols.numeric:
        if column in reference:
            out += _range(column, reference[column])
    for column in cols.categorical:
        if column in reference:
            out += _categories(column, reference[column])
    if config.task == "classification" and cols.prediction in reference:
        out.append(_expect("expect_column_values_to_be_between",
                           {"column": cols.prediction, "min_value": 0, "max_value": 1}, "critical",
                           "A binary classifier logs P(positive): a probability in [0, 1]."))
    return {"name": config.validation.suite, "expectations": out,
            "meta": {"description": f"Profiled by `driftflow init` from the reference window [{start.isoformat()}, "
                                    f"{end.isoformat()}) ({len(reference)} rows) of the {config.name} model.",
                     "driftflow": {"freshness_lag": freshness_lag(reference[src.timestamp])
                                   if src.timestamp in reference else "1d"}}}


def _nulls(column: str, values: pd.Series) -> list[dict[str, Any]]:
    share = float(values.isna().mean()) if len(values) else 0.0
    allowed = min(1.0, 2 * share + 0.01)
    if allowed >= 1.0:
        return []
    return [_expect("expect_column_values_to_not_be_null", {"column": column, "mostly": round(1 - allowed, 4)},
                    "critical", f"The reference had {share:.1%} NULLs; more than {allowed:.1%} means a broken feed.")]


def _range(column: str, values: pd.Series) -> list[dict[str, Any]]:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty:
        return []
    low, high = float(numbers.min()), float(numbers.max())
    margin = (high - low) * RANGE_MARGIN or abs(low) * RANGE_MARGIN or 1.0
    floor = 0.0 if low >= 0 > low - margin else low - margin  # a column never negative stays so
    out = [_expect("expect_column_values_to_be_between",
                   {"column": column, "min_value": _round(floor), "max_value": _round(high + margin),
                    "mostly": MOSTLY}, "warning",
                   f"The reference ranged {low:g} to {high:g}; widened by a tenth"
                   f"{', not below 0' if floor == 0.0 and low - margin < 0 else ''}. Replace with hard limits "
                   "and make it critical where a value outside them is an error.")]
    if numbers.nunique() > 1:
        out.append(_expect("expect_column_unique_value_count_to_be_between", {"column": column, "min_value": 2},
                           "warning", "A constant value over a whole window means a stuck feed."))
    return out


def _categories(column: str, values: pd.Series) -> list[dict[str, Any]]:
    present = values.dropna()
    seen = sorted({_plain(v) for v in present}, key=str)
    if not seen or len(seen) > MAX_SET:
        return []
    return [_expect("expect_column_values_to_be_in_set", {"column": column, "value_set": seen, "mostly": MOSTLY},
                    "warning", f"The {len(seen)} categories of the reference; new ones beyond 1% of rows warn.")]


def _expect(kind: str, kwargs: dict[str, Any], severity: str, note: str | None = None,
            action: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"notes": note} if note else {}
    if action:
        meta["driftflow"] = {"action": action}
    return {"type": kind, "kwargs": kwargs, "meta": meta, "severity": severity}


def _plain(value: Any) -> Any:
    """numpy scalars to plain Python values (JSON and GX want them)."""
    return value.item() if hasattr(value, "item") else value


def _round(value: float) -> float | int:
    rounded = float(f"{value:.6g}")
    return int(rounded) if rounded.is_integer() else rounded

