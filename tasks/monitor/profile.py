"""Reference profiles: what every pinned drift method needs from a reference, computed once per version.

A window is scored against its reference's profile (`tasks.monitor.scores`), never against the reference
rows again. Per column the profile keeps:

- numeric: the sorted distinct non-null values with their counts (exact: every method equals Evidently's),
  or above `exact_limit` distinct values a quantile sketch of `sketch_size` mid-rank order statistics. With
  a sketch the reference CDF is known to within `SketchError.ks` (at most 1/sketch_size), and the profile
  stores, measured against the full reference when it was built, how far the sketch can move Wasserstein,
  KS and energy distance (triangle inequality); the other numeric methods become approximate (see
  `tasks.monitor.scores`). Count, nulls, mean, std (ddof 0, as Evidently normalises Wasserstein), min and
  max are always exact;
- categorical: category → count, with values normalised as the monitor does (1, 1.0 and True are one
  category, "1"), and nulls.

Profiles serialise to compact bytes (a compressed npz with a JSON header; never pickle) with room for the
calibration learned from the reference's chunks (`tasks.monitor.calibrate`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from tasks.errors import DataError
from tasks.monitor.scores_numeric import cdf_distances

FORMAT = "driftflow.profile/1"
EXACT_LIMIT = 100_000  # distinct values kept exactly per numeric column; above: a quantile sketch
SKETCH_SIZE = 20_000  # quantiles in a sketch: reference CDF within 1/SKETCH_SIZE
Kind = Literal["numeric", "categorical"]


def label(value: object) -> str | None:
    """The category a value counts as: 1, 1.0 and True are all "1"; missing values are None."""
    if pd.isna(value):  # type: ignore[call-overload]
        return None
    if isinstance(value, float | np.floating | bool | np.bool_):
        return format(float(value), "g")
    return str(value)


def float_array(values: pd.Series | np.ndarray, name: str = "") -> np.ndarray:
    """float64 values, NaN where missing (no copy when already float64); DataError if not numeric."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    try:
        if isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
            return series.to_numpy(dtype="float64", na_value=np.nan)
        return np.asarray(series, dtype="float64")
    except (TypeError, ValueError):
        raise DataError(f"column {name or series.name!r} should be numeric but holds {series.dtype}") from None


def sorted_values(values: pd.Series | np.ndarray, name: str = "") -> tuple[np.ndarray, int]:
    """The finite values, sorted, and how many were null or infinite (Evidently drops both).

    One sort of a copy: -inf sorts first, +inf and NaN last, so the finite values are one slice.
    """
    ordered = np.sort(float_array(values, name))
    low, high = np.searchsorted(ordered, -np.inf, "right"), np.searchsorted(ordered, np.inf, "left")
    return ordered[low:high], int(len(ordered) - (high - low))


def category_counts(values: pd.Series | np.ndarray) -> tuple[dict[str, int], int]:
    """Counts per normalised category (labels computed once per distinct value), and the null count."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    counts = label_counts(series.value_counts(dropna=True, sort=False))
    return counts, len(series) - sum(counts.values())


def label_counts(raw: pd.Series) -> dict[str, int]:
    """Counts per normalised category from counts per distinct value (`value_counts`)."""
    counts: dict[str, int] = {}
    for value, count in zip(raw.index, raw.to_numpy(), strict=True):
        key = label(value)
        if key is not None and count:
            counts[key] = counts.get(key, 0) + int(count)
    return counts


@dataclass(frozen=True)
class SketchError:
    """How far a sketch is from the reference it summarises, measured when the profile was built.

    `ks`: largest CDF gap (≤ 1/sketch size); `wasserstein`: normalised Wasserstein distance between the
    reference and its sketch; `energy`: their energy distance. By the triangle inequality a window's
    Wasserstein score (energy distance) is within `wasserstein` (`energy`) of the exact one, its KS
    statistic within `ks`, and each histogram bin's reference share within 2·`ks`.
    """

    ks: float
    wasserstein: float
    energy: float


@dataclass(frozen=True)
class NumericProfile:
    """A numeric column of the reference: distinct values and counts (exact) or a quantile sketch."""

    name: str
    rows: int  # non-null, finite values
    nulls: int
    mean: float
    std: float  # ddof 0, as Evidently's Wasserstein normalisation
    min: float
    max: float
    distinct: int
    values: np.ndarray = field(repr=False)  # sorted: distinct values, or the sketch's quantiles
    counts: np.ndarray | None = field(repr=False)  # per distinct value; None for a sketch
    sketch_error: SketchError | None = None
    kind: Kind = "numeric"

    @property
    def exact(self) -> bool:
        return self.counts is not None

    @property
    def constant(self) -> bool:
        return self.distinct == 1

    @property
    def weights(self) -> np.ndarray:
        """How many reference rows each stored value stands for (sums to `rows`)."""
        if self.counts is not None:
            return self.counts.astype("float64")
        return np.full(len(self.values), self.rows / len(self.values))

    def expanded(self) -> np.ndarray:
        """The reference as a sorted sample of `rows` values (a sketch is interpolated between quantiles)."""
        if self.counts is not None:
            return np.repeat(self.values, self.counts)
        levels = (np.arange(len(self.values)) + 0.5) / len(self.values)
        return np.interp((np.arange(self.rows) + 0.5) / self.rows, levels, self.values)


@dataclass(frozen=True)
class CategoricalProfile:
    """A categorical column of the reference: counts per normalised category."""

    name: str
    rows: int  # non-null values
    nulls: int
    categories: tuple[str, ...]
    counts: np.ndarray = field(repr=False)
    kind: Kind = "categorical"

    @property
    def constant(self) -> bool:
        return len(self.categories) == 1

    @property
    def distinct(self) -> int:
        return len(self.categories)


ColumnProfile = NumericProfile | CategoricalProfile


def _sketch(ordered: np.ndarray, size: int) -> np.ndarray:
    """`size` mid-rank order statistics: each stands for rows/size reference values."""
    positions = ((np.arange(size) + 0.5) * len(ordered) / size).astype(np.int64)
    return ordered[positions]


def _sketch_error(ordered: np.ndarray, starts: np.ndarray, sketch: np.ndarray, std: float) -> SketchError:
    """Measure the sketch against the sorted reference it summarises (`starts`: first of each value)."""
    n, k = len(ordered), len(sketch)
    distinct, counts = ordered[starts], np.diff(np.r_[starts, n])
    below, upto = starts / n, (starts + counts) / n  # the reference CDF just before and at each value
    left = below - np.searchsorted(sketch, distinct, "left") / k
    right = upto - np.searchsorted(sketch, distinct, "right") / k
    wasserstein, energy = cdf_distances(distinct, counts.astype("float64"), sketch, np.full(k, n / k))
    return SketchError(ks=float(max(np.abs(right).max(), np.abs(left).max())),
                       wasserstein=wasserstein / max(std, 0.001), energy=energy)


def profile_numeric(name: str, values: pd.Series | np.ndarray, *, exact_limit: int = EXACT_LIMIT,
                    sketch_size: int = SKETCH_SIZE, nulls: int | None = None, ordered: bool = False) -> NumericProfile:
    """Profile one numeric reference column (raises DataError if it is not numeric).

    `ordered=True` says `values` are already sorted finite floats and `nulls` how many were left out (the
    calibration removes chunks from a once-sorted reference this way instead of sorting it again).
    """
    if ordered:
        ordered_values, nulls = np.asarray(values, dtype="float64"), nulls or 0
    else:
        ordered_values, nulls = sorted_values(values, name)
    finite = ordered_values
    if not len(finite):
        return NumericProfile(name, 0, nulls, np.nan, np.nan, np.nan, np.nan, 0, np.empty(0), np.empty(0, "int64"))
    starts = np.flatnonzero(np.r_[True, ordered_values[1:] != ordered_values[:-1]])
    std = float(np.std(finite))
    common = dict(name=name, rows=len(ordered_values), nulls=nulls, mean=float(np.mean(finite)), std=std,
                  min=float(ordered_values[0]), max=float(ordered_values[-1]), distinct=len(starts))
    if len(starts) <= exact_limit:
        counts = np.diff(np.r_[starts, len(ordered_values)]).astype("int64")
        return NumericProfile(**common, values=ordered_values[starts], counts=counts)  # type: ignore[arg-type]
    sketch = _sketch(ordered_values, sketch_size)
    return NumericProfile(**common, values=sketch, counts=None,  # type: ignore[arg-type]
                          sketch_error=_sketch_error(ordered_values, starts, sketch, std))


def profile_categorical(name: str, values: pd.Series | np.ndarray) -> CategoricalProfile:
    """Profile one categorical reference column."""
    counts, nulls = category_counts(values)
    return categorical_from_counts(name, counts, nulls)


def categorical_from_counts(name: str, counts: Mapping[str, int], nulls: int) -> CategoricalProfile:
    """A categorical profile from counts per category (categories with no rows are left out)."""
    ordered = sorted(c for c, k in counts.items() if k > 0)
    return CategoricalProfile(name, sum(counts[c] for c in ordered), nulls, tuple(ordered),
                              np.array([counts[c] for c in ordered], dtype="int64"))


def profile_column(name: str, kind: Kind, values: pd.Series | np.ndarray, *, exact_limit: int = EXACT_LIMIT,
                   sketch_size: int = SKETCH_SIZE) -> ColumnProfile:
    """Profile one reference column as `kind` ('numeric' or 'categorical')."""
    if kind == "numeric":
        return profile_numeric(name, values, exact_limit=exact_limit, sketch_size=sketch_size)
    return profile_categorical(name, values)


@dataclass(frozen=True)
class ReferenceProfile:
    """Every monitored column of one reference version, and the calibration learned from its chunks."""

    columns: dict[str, ColumnProfile]
    rows: int
    calibration: dict[str, Any] | None = None  # `Calibration.to_dict()`; kept as plain JSON here

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def with_calibration(self, calibration: Mapping[str, Any] | None) -> ReferenceProfile:
        return ReferenceProfile(self.columns, self.rows, dict(calibration) if calibration else None)

    def to_bytes(self) -> bytes:
        """Compressed npz: arrays per column plus a JSON header (loadable without pickle)."""
        header: dict[str, Any] = {"format": FORMAT, "rows": self.rows, "calibration": self.calibration,
                                  "columns": []}
        arrays: dict[str, np.ndarray] = {}
        for i, column in enumerate(self.columns.values()):
            if isinstance(column, NumericProfile):
                entry: dict[str, Any] = {
                    "name": column.name, "kind": "numeric", "rows": column.rows, "nulls": column.nulls,
                    "mean": column.mean, "std": column.std, "min": column.min, "max": column.max,
                    "distinct": column.distinct,
                    "sketch_error": column.sketch_error.__dict__ if column.sketch_error else None}
                arrays[f"values{i}"] = column.values
                if column.counts is not None:
                    arrays[f"counts{i}"] = column.counts
            else:
                entry = {"name": column.name, "kind": "categorical", "rows": column.rows, "nulls": column.nulls,
                         "categories": list(column.categories)}
                arrays[f"counts{i}"] = column.counts
            header["columns"].append(entry)
        arrays["header"] = np.frombuffer(json.dumps(header, allow_nan=True).encode(), dtype="uint8")
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ReferenceProfile:
        """Read a profile written by `to_bytes` (raises DataError for anything else)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
            header = json.loads(arrays.pop("header").tobytes())
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"not a reference profile ({exc})") from None
        if header.get("format") != FORMAT:
            raise DataError(f"unknown reference profile format {header.get('format')!r} (expected {FORMAT})")
        columns: dict[str, ColumnProfile] = {}
        for i, entry in enumerate(header["columns"]):
            counts = arrays.get(f"counts{i}")
            if entry["kind"] == "numeric":
                error = entry.pop("sketch_error")
                entry.pop("kind")
                columns[entry["name"]] = NumericProfile(
                    **entry, values=arrays[f"values{i}"], counts=counts,
                    sketch_error=SketchError(**error) if error else None)
            else:
                columns[entry["name"]] = CategoricalProfile(
                    entry["name"], entry["rows"], entry["nulls"], tuple(entry["categories"]),
                    counts if counts is not None else np.empty(0, "int64"))
        return cls(columns, header["rows"], header["calibration"])


def build_profile(reference: pd.DataFrame, numeric: Iterable[str], categorical: Iterable[str], *,
                  exact_limit: int = EXACT_LIMIT, sketch_size: int = SKETCH_SIZE) -> ReferenceProfile:
    """Profile the named columns of a reference frame (columns it lacks are left out).

    The prediction and the target go in whichever list the monitor scores them as; the target's profile
    simply counts its missing labels as nulls.
    """
    columns: dict[str, ColumnProfile] = {}
    for name in numeric:
        if name in reference:
            columns[name] = profile_numeric(name, reference[name], exact_limit=exact_limit,
                                            sketch_size=sketch_size)
    for name in categorical:
        if name in reference:
            columns[name] = profile_categorical(name, reference[name])
    return ReferenceProfile(columns, len(reference))
