"""Which model version made a window's predictions, read from the log's `source.model_version` column.

The column holds the registry's version number (`3`, or `v3`) of the model that served each row. A window is
then compared with the baseline of the version that made its predictions, not with whatever the champion is
now: after a promotion that the serving system has not deployed yet, the old version's predictions are still
judged against the old version's reference. A window served by several versions (a deployment mid-window) is
compared with the version that made most of its rows, and its reasons say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tasks.config import ModelConfig
from tasks.registry.versions import version_of


@dataclass(frozen=True)
class Served:
    """The versions that made a set of rows: label → rows, most rows first (ties by label)."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        return next(iter(self.counts), None)

    @property
    def number(self) -> int | None:
        return version_of(self.label) if self.label is not None else None

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        """'v1 (1,200 rows)', or 'v1 (800 rows) and v2 (200 rows)'; labels that name no version quoted."""
        shown = [f"{_shown(label)} ({rows:,} row{'' if rows == 1 else 's'})" for label, rows in self.counts.items()]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _shown(label: str) -> str:
    number = version_of(label)
    return f"v{number}" if number is not None else repr(label)


def served_by(config: ModelConfig, rows: pd.DataFrame) -> Served:
    """The versions named in `rows` (empty when the model logs no version column or no row names one)."""
    column = config.source.model_version
    if column is None or column not in rows:
        return Served()
    labels = rows[column].dropna().astype(str).str.strip()
    labels = labels[labels != ""]
    if labels.empty:
        return Served()
    counts = labels.value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
    return Served({str(label): int(rows) for label, rows in ordered})


def missing_column(config: ModelConfig, rows: pd.DataFrame) -> list[str]:
    """A note when the configured version column is not in the window (a typo, or a column not logged yet)."""
    column = config.source.model_version
    if column is None or column in rows:
        return []
    return [f"source.model_version {column!r} is not a column of the window: predictions compared with the "
            "active reference"]


def version_notes(served: Served, reference_version: str | None, champion: int | None, role: str) -> list[str]:
    """What the reasons say about the versions that made the rows and which baseline judged them.

    `reference_version` is the model version of the reference used; `champion` the registry's champion now."""
    if served.label is None:
        return []
    number = served.number
    said = f"{role} made by {served.describe()}"
    if len(served.counts) > 1:
        said += f"; compared with {_shown(served.label)}'s baseline, the version that made most"
    if number is None:
        return [f"{said}: {served.label!r} is no registry version number; compared with the active reference"]
    if reference_version != str(number):
        return [f"{said}: v{number} has no reference in the registry; compared with the active reference"]
    if champion is not None and champion != number:
        return [f"{said}, compared with v{number}'s own baseline (the champion is v{champion})"]
    return [said] if len(served.counts) > 1 else []


def superseded(served: Served, champion: int | None) -> str | None:
    """Why a drift of rows served by a version the champion already replaces requests no retraining."""
    number = served.number
    if number is None or champion is None or number >= champion:
        return None
    return (f"refused: the window's predictions were made by v{number}, which the champion v{champion} already "
            f"replaces; deploy v{champion} to the serving system")
