"""Checks every window gets before its suite, whatever the suite holds: values that must be numbers.

A numeric feature, a numeric prediction or a regression target that arrives as text (`'n/a'`, `'-'`) or as
±inf cannot be measured as it is. The values that are numbers are kept and the rest read as missing, and
each such column becomes a finding with its count and an example, so the window is still measured and the
suite's own null checks then judge how many are missing. A column with no number in it at all blocks the
window (`data_invalid`): its type, not its values, is wrong. The findings are outcomes of the window's
validation, at negative positions (before the suite's own), and are recorded with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from tasks.config import ModelConfig
from tasks.registry.profiles import scored_columns
from tasks.results import MEASUREMENT, ExpectationOutcome, Reference, ValidationSummary, WindowData

NUMBERS = "values are numbers"
FINITE = "values are finite"


@dataclass(frozen=True)
class Cleaned:
    """A column as the window is measured: its values and what was read as missing, with an example."""

    values: pd.Series
    text: int  # non-null values that are not numbers
    infinite: int
    example: str | None
    changed: bool  # False: `values` is the column as it came


def clean_numbers(values: pd.Series) -> Cleaned:
    """The values with text and ±inf read as missing (a numeric column without ±inf comes back as it is)."""
    text, example, changed = 0, None, False
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        numbers = pd.to_numeric(values.astype(object), errors="coerce")
        bad = values.notna() & numbers.isna()
        text = int(bad.sum())
        example = repr(str(values[bad].iloc[0])) if text else None
        values, changed = numbers.astype("float64"), True
    infinite_mask = np.isinf(values.to_numpy(dtype="float64", na_value=np.nan))
    infinite = int(infinite_mask.sum())
    if infinite:
        example = example or str(values[infinite_mask].iloc[0])
        values, changed = values.astype("float64").mask(infinite_mask), True
    return Cleaned(values, text, infinite, example, changed)


def numeric_columns(config: ModelConfig, reference: Reference) -> list[str]:
    """The columns measured as numbers: numeric features, a numeric prediction, a regression target and the
    class probabilities."""
    numeric, _ = scored_columns(config, reference.data)
    return [*numeric, *config.columns.probabilities.values()]


def _finding(column: str, cleaned: Cleaned, rows: int, position: int) -> ExpectationOutcome:
    if cleaned.text and not cleaned.values.notna().any():
        observed = f"none of its {cleaned.text:,} values is a number, e.g. {cleaned.example}"
        return ExpectationOutcome(NUMBERS, column, "critical", False, observed, cleaned.text, action="block",
                                  position=position, expected="numbers")
    parts = [f"{cleaned.text:,} of {rows:,} values are not numbers"] if cleaned.text else []
    if cleaned.infinite:
        parts.append(f"{cleaned.infinite:,} of {rows:,} values are infinite")
    observed = f"{' and '.join(parts)}, e.g. {cleaned.example}; read as missing"
    return ExpectationOutcome(NUMBERS if cleaned.text else FINITE, column, "warning", False, observed,
                              cleaned.text + cleaned.infinite, action="warn", position=position)


def tidy_window(config: ModelConfig, data: WindowData,
                reference: Reference) -> tuple[WindowData, list[ExpectationOutcome]]:
    """The window with its numeric columns as numbers, and a finding per column that was not."""
    findings: list[ExpectationOutcome] = []
    frames = {"current": data.current, "labelled": data.labelled}
    reported: set[str] = set()
    for which, frame in frames.items():
        changed = {}
        for column in numeric_columns(config, reference):
            if column not in frame:
                continue
            cleaned = clean_numbers(frame[column])
            if not cleaned.changed:
                continue
            changed[column] = cleaned.values
            if (cleaned.text or cleaned.infinite) and column not in reported:
                reported.add(column)
                findings.append(_finding(column, cleaned, len(frame), -1 - len(findings)))
        frames[which] = frame.assign(**changed) if changed else frame
    return replace(data, current=frames["current"], labelled=frames["labelled"]), findings


def unmeasurable(validation: ValidationSummary, problem: str) -> ValidationSummary:
    """The window's validation with a data problem found while measuring it (labels a binary classifier
    cannot read, say) as a blocking outcome: the window is `data_invalid` with the problem as its reason."""
    position = -1 - sum(1 for o in validation.outcomes if (o.position or 0) < 0)
    outcome = ExpectationOutcome(MEASUREMENT, None, "critical", False, problem, action="block", position=position)
    return replace(validation, outcomes=[outcome, *validation.outcomes])
