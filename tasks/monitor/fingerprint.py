"""Fingerprints of what a window measured: its rows, and its matured labels.

A rerun compares them with the recorded ones, so a changed verdict is explained (the labels arrived late, the
rows were corrected) and an unchanged window is not rewritten. Row order does not matter: the hash of each row
is sorted before the whole is hashed.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from pandas.core.util.hashing import combine_hash_arrays  # type: ignore[attr-defined]  # not in pandas-stubs

from tasks.config import ModelConfig
from tasks.source.pushdown import NumericBuckets, WindowAggregates


def fingerprint(frame: pd.DataFrame, columns: list[str]) -> str:
    """A short, order-independent digest of `columns` of `frame` (those it has)."""
    present = [c for c in columns if c in frame]
    rows = row_hashes(frame, present) if present and len(frame) else np.array([], dtype="uint64")
    digest = hashlib.sha256(",".join(present).encode())
    digest.update(np.sort(rows).tobytes())
    return digest.hexdigest()[:32]


def row_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """`hash_pandas_object(frame[columns], index=False)`, the same values, one column at a time: selecting the
    columns first would copy the window."""
    hashes = (pd.util.hash_pandas_object(frame[c], index=False).to_numpy() for c in columns)
    return np.asarray(combine_hash_arrays(hashes, len(columns)))


def data_fingerprint(config: ModelConfig, current: pd.DataFrame) -> str:
    """The window's rows as read, every monitored column but the target."""
    return fingerprint(current, [c for c in config.monitored_columns if c != config.columns.target.column])


def labels_fingerprint(config: ModelConfig, labelled: pd.DataFrame) -> str:
    """The matured labels the window's performance was measured on, by id."""
    return fingerprint(labelled, [config.source.id, config.columns.target.column])


def counted_fingerprint(pulled: str | None, counted: WindowAggregates) -> str:
    """The pulled columns' fingerprint with what the warehouse counted of the features (`source.pull:
    aggregates`): rows, and per column its counts per bucket with each bucket's extremes, or its counts per
    category. Sums are left out: exact as they are, they are the one part whose last bit could depend on order."""
    digest = hashlib.sha256(f"{pulled or ''}/{counted.rows}".encode())
    for name in sorted(counted.columns):
        column = counted.columns[name]
        digest.update(name.encode())
        if isinstance(column, NumericBuckets):
            for part in (column.counts, column.lows, column.highs):
                digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(repr(sorted(column.counts.items())).encode())
        digest.update(str(column.nulls).encode())
    return digest.hexdigest()[:32]
