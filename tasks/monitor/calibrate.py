"""Thresholds learned from the reference: each statistic's normal band from window-sized reference chunks.

The reference is cut into chunks the size of a window, by time (the timestamp column and the window
length, counted back from the reference's end; partial chunks are dropped) or by rows. Each chunk is
scored exactly as a window is scored, against the reference *without that chunk* (leave-one-out: a chunk
scored against data that contains it looks closer than any window can, and the band comes out too tight).

From the chunk scores a predictive band is learned on the log scale (distances are positive and skewed;
p-values are turned into -log p so larger always means more drift): with C chunks of mean μ and standard
deviation s, the next window's log score follows a Student-t with C-1 degrees of freedom, centre μ and
scale s·√(1 + 1/C). `p99` is that distribution's 99th percentile; `3sigma` is μ + 3 s widened the same way
(its normal-equivalent level, 99.87 %). With few chunks the t quantile and the √(1 + 1/C) factor widen the
band, where a raw empirical percentile of a handful of chunks would mean nothing. The same distribution
gives each window score a tail probability, which the false-alarm control (`tasks.monitor.false_alarms`)
combines across features. Fewer than `min_chunks` scored chunks: no band, and a note saying why (the
caller then uses the fixed fallback threshold).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from tasks.config import ModelConfig
from tasks.config.sections import CalibrationConfig
from tasks.config.types import Span
from tasks.monitor.profile import (
    ColumnProfile,
    categorical_from_counts,
    category_counts,
    float_array,
    profile_numeric,
)
from tasks.monitor.scores import ColumnScore, Direction, method, score_column

LOG_FLOOR = 1e-300  # scores of exactly 0 (a p-value that underflowed, identical distributions)
SPREAD_FLOOR = 0.05  # log units: chunk scores within ~5 % of each other are not told apart


@dataclass(frozen=True)
class Statistic:
    """One monitored statistic: a column of the reference scored with a method."""

    column: str
    kind: Literal["numeric", "categorical"]
    method: str
    min_rows: int = 1  # chunks with fewer values of the column are skipped (the target's labelled rows)


def statistics_for(config: ModelConfig, *, numeric_prediction: bool) -> list[Statistic]:
    """What a model calibrates: each drift feature, the prediction and the target, with its pinned method.

    Columns with a fixed threshold (their own `per_column` threshold or `drift.threshold`) are decided by
    it and need no band. The target is scored on labelled rows only, so a chunk needs
    `performance.min_labelled_rows` of them; it is numeric for regression models, categorical otherwise.
    """
    drift, cols = config.drift, config.columns
    wanted: list[tuple[str, Literal["numeric", "categorical"], int]] = [
        *((c, "numeric", 1) for c in cols.drift_numeric), *((c, "categorical", 1) for c in cols.drift_categorical),
        (cols.prediction, "numeric" if numeric_prediction else "categorical", 1),
        (cols.target.column, "numeric" if config.task == "regression" else "categorical",
         config.performance.min_labelled_rows)]
    return [Statistic(name, kind, drift.method_for(name, kind), rows) for name, kind, rows in wanted
            if drift.fixed_threshold_for(name) is None]


def band_level(band: str) -> float:
    """'p99' → 0.99; '3sigma' → Φ(3) ≈ 0.99865 (mean + 3 sd of a normal)."""
    if band.startswith("p"):
        return float(band[1:]) / 100
    return float(stats.norm.cdf(float(band.removesuffix("sigma"))))


def _log_score(score: float, direction: Direction) -> float:
    value = math.log(max(score, LOG_FLOOR))
    return value if direction == "higher" else -value


@dataclass(frozen=True)
class Band:
    """A statistic's normal range learned from reference chunks (or why none could be learned)."""

    column: str
    method: str
    direction: Direction
    band: str  # 'p99', '3sigma', …
    chunk_scores: tuple[float, ...]
    threshold: float | None  # in score units; None: too few chunks, use the fixed threshold
    center: float | None = None  # mean of the chunks' log scores (-log p for p-values)
    spread: float | None = None  # their standard deviation (floored at SPREAD_FLOOR)
    note: str | None = None

    @property
    def chunks(self) -> int:
        return len(self.chunk_scores)

    @property
    def sign(self) -> str:
        """How a drifting score compares with the threshold: '>' for distances, '<' for p-values."""
        return ">" if self.direction == "higher" else "<"

    @property
    def source(self) -> str:
        """Where the threshold comes from, for reasons: 'the p99 of 24 reference chunks'."""
        if self.threshold is None:
            return f"fixed ({self.note})" if self.note else "fixed"
        what = f"the {self.band}" if self.band.startswith("p") else f"mean + {self.band.removesuffix('sigma')} sd"
        return f"{what} of {self.chunks} reference chunks"

    def _standardised(self, score: float) -> float:
        assert self.center is not None and self.spread is not None
        scale = self.spread * math.sqrt(1 + 1 / self.chunks)
        return (_log_score(score, self.direction) - self.center) / scale

    def tail_probability(self, score: float) -> float | None:
        """P(a stationary window scores at least this far towards drift); None without a band."""
        if self.threshold is None:
            return None
        return float(stats.t.sf(self._standardised(score), self.chunks - 1))

    def beyond(self, score: float) -> bool | None:
        """Is `score` outside the band? None without a band."""
        if self.threshold is None:
            return None
        return score > self.threshold if self.direction == "higher" else score < self.threshold


def fit_band(column: str, method_name: str, direction: Direction, scores: Sequence[float], band: str,
             min_chunks: int, chunking: str = "") -> Band:
    """The predictive band of `scores` at `band`, or a band-less note when there are too few of them."""
    kept = tuple(float(s) for s in scores if math.isfinite(s))
    if len(kept) < max(min_chunks, 2):
        of = f" of {chunking}" if chunking else ""
        note = (f"only {len(kept)} reference chunks{of} could be scored; calibration needs {min_chunks}")
        return Band(column, method_name, direction, band, kept, None, note=note)
    logs = np.array([_log_score(s, direction) for s in kept])
    center, spread = float(logs.mean()), max(float(logs.std(ddof=1)), SPREAD_FLOOR)
    limit = center + stats.t.ppf(band_level(band), len(kept) - 1) * spread * math.sqrt(1 + 1 / len(kept))
    bound = math.exp(min(limit, 709.0) if direction == "higher" else -min(limit, 709.0))
    return Band(column, method_name, direction, band, kept, bound, center, spread)


def time_chunks(timestamps: pd.Series, window: Span | timedelta, start: datetime | None = None,
                end: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """Window-long [start, end) intervals counted back from `end`, each wholly inside the reference."""
    moments = pd.to_datetime(timestamps)
    first = start or moments.min().to_pydatetime()
    last = end or (moments.max() + pd.Timedelta(microseconds=1)).to_pydatetime()
    span = window if isinstance(window, Span) else Span(str(window), delta=window)
    chunks: list[tuple[datetime, datetime]] = []
    right = last
    while (left := span.before(right)) >= first and left < right:
        chunks.append((left, right))
        right = left
    return chunks[::-1]


def row_chunks(rows: int, window_rows: int) -> list[tuple[int, int]]:
    """[start, stop) row ranges of `window_rows`, counted back from the last row (time order)."""
    if window_rows < 1:
        return []
    count = rows // window_rows
    return [(rows - (k + 1) * window_rows, rows - k * window_rows) for k in range(count)][::-1]


@dataclass(frozen=True)
class Calibration:
    """The bands of one reference version, per statistic (column), and how its chunks were cut."""

    band: str
    chunking: str  # '7d by time', '5,000 rows'
    chunks: list[str]  # each chunk, as a label (time range or row range)
    bands: dict[str, Band] = field(default_factory=dict)

    def __getitem__(self, column: str) -> Band:
        return self.bands[column]

    def get(self, column: str) -> Band | None:
        return self.bands.get(column)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (stored with the reference version and inside its profile)."""
        return {"band": self.band, "chunking": self.chunking, "chunks": list(self.chunks),
                "bands": {name: {**asdict(b), "chunk_scores": list(b.chunk_scores)} for name, b in self.bands.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        bands = {name: Band(**{**b, "chunk_scores": tuple(b["chunk_scores"])}) for name, b in data["bands"].items()}
        return cls(data["band"], data["chunking"], list(data["chunks"]), bands)


def _chunk_rows(reference: pd.DataFrame, config: CalibrationConfig, timestamp: str | None,
                window: Span | timedelta | None, window_rows: int | None, start: datetime | None,
                end: datetime | None, bounds: Sequence[tuple[datetime, datetime]] | None = None,
                ) -> tuple[str, list[str], list[np.ndarray]]:
    """The chunking's description, each chunk's label and row positions (time order)."""
    if config.chunks == "time" and timestamp and (window is not None or bounds is not None):
        moments = pd.to_datetime(reference[timestamp])
        aware = moments.dt.tz is not None
        chunks: list[tuple[datetime, datetime]]
        if bounds is not None:
            chunks = [(_same(a, aware), _same(b, aware)) for a, b in bounds]
        else:
            assert window is not None
            chunks = time_chunks(moments, window, _like(start, aware), _like(end, aware))
        positions = [np.flatnonzero(((moments >= a) & (moments < b)).to_numpy()) for a, b in chunks]
        labels = [f"{a.isoformat()} – {b.isoformat()}" for a, b in chunks]
        text = _span_text(window) if window is not None else "scheduled windows"
        return f"{text} by time", labels, positions
    order = np.argsort(pd.to_datetime(reference[timestamp]).to_numpy(), kind="stable") if timestamp else \
        np.arange(len(reference))
    if window_rows is None:
        if not (timestamp and window is not None):
            raise ValueError("row chunks need the window's row count, or a timestamp column and window length")
        moments = pd.to_datetime(reference[timestamp])
        first = moments.min().to_pydatetime()
        span = window if isinstance(window, Span) else Span(str(window), delta=window)
        length = (span.after(first) - first).total_seconds()
        covered = max((moments.max() - moments.min()).total_seconds(), 1.0)
        window_rows = max(1, round(len(reference) * length / covered))
    ranges = row_chunks(len(reference), window_rows)
    return f"{window_rows:,} rows", [f"rows {a:,}–{b:,}" for a, b in ranges], [order[a:b] for a, b in ranges]


def _span_text(window: Span | timedelta) -> str:
    if isinstance(window, Span):
        return str(window)
    seconds = int(window.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _same(moment: datetime, aware: bool) -> datetime:
    found = _like(moment, aware)
    assert found is not None
    return found


def _like(moment: datetime | None, aware: bool) -> datetime | None:
    """`moment` comparable with the timestamps: naive timestamps are UTC wall-clock, as the store keeps them."""
    if moment is None or (moment.tzinfo is not None) == aware:
        return moment
    if aware:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None)


def _leave_out(stat: Statistic, column: pd.Series, **sketch: int) -> Callable[[np.ndarray], ColumnProfile]:
    """A function giving the column's profile without the rows at some positions.

    The column is sorted (or counted) once; leaving a chunk out then costs one pass, not another sort.
    """
    if stat.kind == "categorical":
        counts, nulls = category_counts(column)

        def categorical(rows: np.ndarray) -> ColumnProfile:
            chunk, chunk_nulls = category_counts(column.iloc[rows])
            rest = {c: k - chunk.get(c, 0) for c, k in counts.items()}
            return categorical_from_counts(stat.column, rest, nulls - chunk_nulls)
        return categorical

    array = float_array(column, stat.column)
    order = np.argsort(array, kind="stable")
    order = order[np.isfinite(array[order])]
    ordered = array[order]
    nulls = len(array) - len(order)

    def numeric(rows: np.ndarray) -> ColumnProfile:
        keep = np.ones(len(array), dtype=bool)
        keep[rows] = False
        kept = keep[order]
        left_out_nulls = len(rows) - int((~kept).sum())
        return profile_numeric(stat.column, ordered[kept], nulls=nulls - left_out_nulls, ordered=True, **sketch)
    return numeric


def calibrate(reference: pd.DataFrame, statistics: Sequence[Statistic], config: CalibrationConfig, *,
              timestamp: str | None = None, window: Span | timedelta | None = None, window_rows: int | None = None,
              start: datetime | None = None, end: datetime | None = None,
              bounds: Sequence[tuple[datetime, datetime]] | None = None, **sketch: int) -> Calibration:
    """Learn a band per statistic from leave-one-out scores of the reference's window-sized chunks.

    `config.chunks == 'time'` needs `timestamp` and `window` (a Span such as '7d' or '1mo', or a
    timedelta); otherwise chunks are `window_rows` rows each (estimated from the reference's density when
    not given). `start`/`end` are the reference window's bounds (default: its first and last timestamp).
    `bounds`, when given, are the chunks' [start, end) intervals (the schedule's own windows).
    """
    chunking, labels, positions = _chunk_rows(reference, config, timestamp, window, window_rows, start, end,
                                              bounds)
    scores: dict[str, list[float]] = {s.column: [] for s in statistics}
    for stat in statistics:
        if stat.column not in reference:
            continue  # no chunk scores: the band says so
        column = reference[stat.column]
        without = _leave_out(stat, column, **sketch)
        for rows in positions:
            chunk = column.iloc[rows]
            if not len(rows) or chunk.notna().sum() < stat.min_rows:
                continue
            result = score_column(stat.method, without(rows), chunk, threshold=1.0)
            if isinstance(result, ColumnScore):
                scores[stat.column].append(result.score)
    bands = {s.column: fit_band(s.column, s.method, method(s.method, s.kind, s.column).direction, scores[s.column],
                                config.band, config.min_chunks, chunking) for s in statistics}
    return Calibration(config.band, chunking, labels, bands)
