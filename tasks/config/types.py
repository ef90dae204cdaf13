"""Value types of the configuration: durations, calendar spans, identifiers, moments and allowances."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict
from pydantic.functional_validators import BeforeValidator

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
SPAN = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|mo|y)\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
ALLOWANCE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%|sd)?\s*$")


class Strict(BaseModel):
    """A configuration section: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_duration(value: object) -> timedelta:
    """'7d', '12h', '2w' (or a timedelta) to a timedelta."""
    if isinstance(value, timedelta):
        return value
    match = DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration like '7d', '12h' or '2w'")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


@dataclass(frozen=True)
class Span:
    """A length of time that may follow the calendar: '7d' is 168 hours, '1mo' and '1y' are calendar steps."""

    text: str
    months: int = 0
    delta: timedelta = timedelta(0)

    def before(self, moment: datetime) -> datetime:
        """`moment` minus this span (a calendar month back from March 31 is February 28/29)."""
        return moment - relativedelta(months=self.months) - self.delta

    def after(self, moment: datetime) -> datetime:
        return moment + relativedelta(months=self.months) + self.delta

    @property
    def calendar(self) -> bool:
        return self.months != 0

    def __str__(self) -> str:
        return self.text


def parse_span(value: object) -> Span:
    """'7d', '2w', '1mo', '1y' (or a Span / timedelta) to a Span."""
    if isinstance(value, Span):
        return value
    if isinstance(value, timedelta):
        return Span(f"{int(value.total_seconds())}s", delta=value)
    match = SPAN.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a length like '7d', '2w', '1mo' or '1y'")
    amount, unit = int(match.group(1)), match.group(2)
    text = f"{amount}{unit}"
    if unit == "mo":
        return Span(text, months=amount)
    if unit == "y":
        return Span(text, months=12 * amount)
    return Span(text, delta=timedelta(**{UNITS[unit]: amount}))


CalendarSpan = Annotated[Span, BeforeValidator(parse_span)]


def parse_moment(value: object) -> datetime:
    """An ISO date or date-time to an aware UTC datetime: an offset is applied, never dropped; none means UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date or date-time like 2024-01-31 or "
                             "2024-01-31T06:00+05:00") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


Moment = Annotated[datetime, BeforeValidator(parse_moment)]


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a plain SQL identifier (letters, digits, underscores)")
    return value


Identifier = Annotated[str, BeforeValidator(lambda v: _identifier(str(v)))]


@dataclass(frozen=True)
class Allowance:
    """How much worse than its reference a model may get: in metric units, relative, or in reference spreads.

    `0.05` is 0.05 of the metric; `5%` is 5 % of the reference value; `2sd` is twice the standard deviation
    of the metric over the reference's own window-sized chunks, so it keeps its meaning after a promotion.
    """

    value: float
    unit: Literal["absolute", "relative", "spread"] = "absolute"

    def resolve(self, reference_value: float | None, chunk_spread: float | None) -> float | None:
        """The allowance in metric units; None when what it is relative to is unknown."""
        if self.unit == "absolute":
            return self.value
        if self.unit == "relative":
            return None if reference_value is None else abs(reference_value) * self.value / 100
        return None if chunk_spread is None else chunk_spread * self.value

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return {"absolute": number, "relative": f"{number}%", "spread": f"{number}sd"}[self.unit]


def parse_allowance(value: object) -> Allowance:
    """0.05, '5%' or '2sd' to an Allowance."""
    if isinstance(value, Allowance):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an allowance like 0.05, '5%' or '2sd'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("an allowance cannot be negative")
        return Allowance(float(value))
    match = ALLOWANCE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not an allowance like 0.05 (metric units), '5%' (of the reference "
                         "value) or '2sd' (reference chunk spreads)")
    unit = {"%": "relative", "sd": "spread", None: "absolute"}[match.group(2)]
    return Allowance(float(match.group(1)), unit)  # type: ignore[arg-type]


AllowanceValue = Annotated[Allowance, BeforeValidator(parse_allowance)]
