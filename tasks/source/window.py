"""One window's rows and its matured (labelled) rows, read in one pass when the two ranges overlap.

With a label delay shorter than the window, the labelled window [start - delay, end - delay) overlaps the
current one: one query over the union [start - delay, end) reads every row once, and pandas splits it. Without
an overlap (a delay of a window or more), two exact reads cost less than one over the gap between them.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from tasks.config import ModelConfig
from tasks.memory import release_freed_memory
from tasks.results import Window
from tasks.source.query import read_range
from tasks.source.timestamps import cut


def labelled_columns(config: ModelConfig) -> list[str]:
    """What the performance check needs from the matured window (and the version that made each prediction)."""
    cols = config.columns
    version = [config.source.model_version] if config.source.model_version else []
    return [config.source.id, config.source.timestamp, *version, cols.prediction, *cols.probabilities.values(),
            cols.target.column]


def overlaps(window: Window) -> bool:
    """Whether the current and the labelled ranges share any instant."""
    return window.labelled_start < window.end and window.start < window.labelled_end


def pulled_columns(config: ModelConfig) -> list[str]:
    """The current window's columns the monitor reads: every monitored column, or with `source.pull:
    aggregates` all but the features (the warehouse counts those)."""
    if config.source.pull == "rows":
        return config.monitored_columns
    features = set(config.columns.features)
    return [c for c in config.monitored_columns if c not in features]


def read_window(config: ModelConfig, window: Window, url: str | None = None,
                *, compact: bool = False, features: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(current rows with the pulled columns, labelled rows of the matured window), each exact in UTC.

    The same frames as `read_range(pulled)` and `read_range(labelled, labelled_only=True)`; `compact`
    turns the configured categorical columns into pandas categoricals (less memory on long windows);
    `features` keeps the features in the labelled rows too (a replay scores them with a model).
    """
    wanted = pulled_columns(config)
    needed = labelled_columns(config)
    if features:
        needed = [*needed, *(c for c in config.columns.features if c not in needed)]
    if not overlaps(window):
        current = read_range(config, wanted, window.start, window.end, url)
        labelled = read_range(config, needed, window.labelled_start, window.labelled_end, url, labelled_only=True)
    else:
        union = [*wanted, *(c for c in needed if c not in wanted)]
        frame = read_range(config, union, *window_bounds(window), url)
        current = _columns(cut(frame, config.source.timestamp, window.start, window.end), wanted)
        labelled = _labelled(config, cut(frame, config.source.timestamp, window.labelled_start,
                                         window.labelled_end), needed)
    if compact:
        current, labelled = compact_dtypes(current, config), compact_dtypes(labelled, config)
    release_freed_memory()  # the read's leftovers (the union's cut, the timestamps as read) under nothing else
    return current, labelled


def compact_dtypes(frame: pd.DataFrame, config: ModelConfig) -> pd.DataFrame:
    """The configured categorical columns as pandas categoricals (NULL stays missing, never a category)."""
    columns = [c for c in config.columns.categorical if c in frame and frame[c].dtype == object]
    return frame.astype(dict.fromkeys(columns, "category")) if columns else frame


def _columns(frame: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    present = [c for c in wanted if c in frame]
    if present == list(frame.columns) and isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        return frame  # the read already is this frame: no copy of a million rows
    return frame[present].reset_index(drop=True)


def _labelled(config: ModelConfig, frame: pd.DataFrame, needed: list[str]) -> pd.DataFrame:
    target = config.columns.target.column
    if target not in frame:  # no labels at all: an empty labelled window, as read_range gives it
        return frame.loc[[], [config.source.id]].reset_index(drop=True)
    present = [c for c in needed if c in frame]
    return frame.loc[frame[target].notna().to_numpy(), present].reset_index(drop=True)  # copies those columns only


def window_bounds(window: Window) -> tuple[datetime, datetime]:
    """The range one pass reads: the union of the current and labelled ranges."""
    return min(window.start, window.labelled_start), max(window.end, window.labelled_end)
