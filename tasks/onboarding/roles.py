"""Proposing each column's role (timestamp, id, prediction, target, numeric, categorical, context) by its kind
and name; every guess can be overridden by the user, and an override always wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tasks.errors import ConfigError
from tasks.onboarding.introspect import ColumnInfo, SourceInfo

PREDICTION_HINTS = re.compile(r"(^|_)(pred|prediction|predicted|score|proba|probability|yhat|y_hat|forecast)"
                              r"($|_)|_pred$|_proba$|_score$", re.IGNORECASE)
TARGET_HINTS = re.compile(r"^(label|target|y|outcome|actual|truth|class)$|(^|_)(label|target|actual)($|_)",
                          re.IGNORECASE)
ID_HINTS = re.compile(r"^(id|.*_id|.*id|key|uuid|row_?id)$", re.IGNORECASE)
TIME_HINTS = re.compile(r"(time|date|_at$|^ts$|timestamp|datetime)", re.IGNORECASE)
CALENDAR = re.compile(r"^(hour|hr|weekday|wday|dow|day_of_week|dayofweek|day|month|mnth|season|year|yr|week|"
                      r"quarter|minute|workday|work_day|weekend|holiday)$|(^|_)(hour|weekday|dow|month|season|"
                      r"year|quarter)($|_)", re.IGNORECASE)
MAX_CATEGORIES = 50  # a text column with more distinct values is proposed as nothing (an identifier, free text)


@dataclass
class Roles:
    """Each role's columns; what `init` writes into `source` and `columns`."""

    timestamp: str
    id: str
    prediction: str
    target: str
    task: str
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # columns given no role (said in the next steps)


@dataclass(frozen=True)
class Overrides:
    timestamp: str | None = None
    id: str | None = None
    prediction: str | None = None
    target: str | None = None
    task: str | None = None
    numeric: list[str] | None = None
    categorical: list[str] | None = None
    context: list[str] | None = None


def propose_roles(source: SourceInfo, given: Overrides = Overrides()) -> Roles:
    """Each column's role: the user's choice where given, else a guess from its kind and name."""
    names = [c.name for c in source.columns]
    for role, value in _named(given):
        if value not in names:
            raise ConfigError(f"--{role} {value!r}: no such column in {source.where} "
                              f"(columns: {', '.join(names)})")
    timestamp = given.timestamp or _pick(source, "timestamp", _timestamp_score)
    taken = {timestamp}
    id_ = given.id or _pick(source, "id", _id_score, taken)
    taken.add(id_)
    prediction = given.prediction or _pick(source, "prediction", _hint(PREDICTION_HINTS), taken)
    taken.add(prediction)
    target = given.target or _paired(source, prediction, taken) or \
        _pick(source, "target", _hint(TARGET_HINTS), taken)
    taken.add(target)
    task = given.task or guess_task(source.column(target), source.column(prediction))
    roles = Roles(timestamp=timestamp, id=id_, prediction=prediction, target=target, task=task)
    for column in source.columns:
        if column.name in taken:
            continue
        if column.kind in ("numeric", "integer"):
            roles.numeric.append(column.name)
        elif column.kind in ("text", "boolean") and column.distinct <= MAX_CATEGORIES:
            roles.categorical.append(column.name)
        else:
            roles.skipped.append(column.name)
    if given.numeric is not None or given.categorical is not None:  # a list given replaces that guess only
        roles.numeric = list(given.numeric) if given.numeric is not None else \
            [n for n in roles.numeric if n not in (given.categorical or [])]
        roles.categorical = list(given.categorical) if given.categorical is not None else \
            [n for n in roles.categorical if n not in (given.numeric or [])]
        listed = {*roles.numeric, *roles.categorical}
        roles.skipped = [n for n in names if n not in taken and n not in listed]
    features = [*roles.numeric, *roles.categorical]
    roles.context = list(given.context) if given.context is not None else \
        [n for n in features if CALENDAR.search(n)]
    stray = [c for c in roles.context if c not in features]
    if stray:
        raise ConfigError(f"--context {', '.join(stray)}: context columns must also be features (--numeric or "
                          "--categorical)")
    return roles


def guess_task(target: ColumnInfo | None, prediction: ColumnInfo | None) -> str:
    """Two target values: classification; a few labels: multiclass; many numbers: regression."""
    if target is None:
        return "regression"
    if target.distinct <= 2:
        return "classification"
    if target.kind == "numeric" or (target.kind == "integer" and target.distinct > 20):
        return "regression"
    return "multiclass"


def _paired(source: SourceInfo, prediction: str, taken: set[str]) -> str | None:
    """The column the prediction is named after: `demand` for `predicted_demand`, `late` for `late_proba`."""
    stem = re.sub(r"^(predicted|prediction|pred|yhat|forecast)_|_(pred|predicted|prediction|proba|probability|"
                  r"score|hat|forecast)$", "", prediction, flags=re.IGNORECASE)
    match = next((c.name for c in source.columns if c.name.lower() == stem.lower() and c.name not in taken), None)
    return match if stem != prediction else None


def _named(given: Overrides) -> list[tuple[str, str]]:
    singles = [(role, getattr(given, role)) for role in ("timestamp", "id", "prediction", "target")]
    lists = [(role, value) for role in ("numeric", "categorical", "context") for value in getattr(given, role) or []]
    return [(role, value) for role, value in [*singles, *lists] if value]


Score = Callable[[ColumnInfo], int]


def _pick(source: SourceInfo, role: str, score: Score, taken: set[str] | None = None) -> str:
    scored = [(score(c), i, c.name) for i, c in enumerate(source.columns)
              if c.name not in (taken or set())]
    best = max((s for s in scored if s[0] > 0), key=lambda s: (s[0], -s[1]), default=None)
    if best is None:
        raise ConfigError(f"no column of {source.where} looks like the {role}; name it with --{role} COLUMN "
                          f"(columns: {', '.join(c.name for c in source.columns)})")
    return best[2]


def _timestamp_score(column: ColumnInfo) -> int:
    if column.kind != "time":
        return 0
    return 2 if TIME_HINTS.search(column.name) else 1


def _id_score(column: ColumnInfo) -> int:
    if not column.unique or column.kind not in ("integer", "text"):
        return 0
    return 2 if ID_HINTS.match(column.name) else 0


def _hint(pattern: re.Pattern[str]) -> Score:
    def score(column: ColumnInfo) -> int:
        return 1 if pattern.search(column.name) and column.kind != "time" else 0

    return score

