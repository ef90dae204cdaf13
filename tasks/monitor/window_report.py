"""Write one window's Evidently HTML report: a bounded, reproducible sample of the window and the reference.

The verdict never depends on the sample: it was decided on every row against the reference profile. The
report shows the same columns with the same methods and thresholds, says which sample it draws, and shares
Evidently's JavaScript bundle with every other report under the reports folder (`reports/_assets/`).
`store_window_report` puts both in the artifact store, wherever `DRIFTFLOW_ARTIFACTS` points.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks import artifacts
from tasks.config import ModelConfig
from tasks.monitor.html_report import (
    ASSETS,
    DEFAULT_MAX_ROWS,
    ReportColumn,
    compact,
    render_report,
    sample_rows,
    seed_for,
)
from tasks.monitor.profile import label
from tasks.results import ColumnDrift, DriftSummary, Reference, WindowData


def _values(values: pd.Series, numeric: bool) -> pd.Series:
    """What Evidently is given: float64 for numeric columns, category labels (None when missing) otherwise."""
    return values.astype("float64") if numeric else values.map(label)


def shown_columns(drift: DriftSummary, max_columns: int | None) -> list[ColumnDrift]:
    """The scored columns the report shows, in the summary's order: all of them, or at most `max_columns`:
    the prediction, then the features that drifted, then those nearest their thresholds."""
    scored = [c for c in drift.columns if c.score is not None and c.kind != "target"]
    if max_columns is None or len(scored) <= max_columns:
        return scored

    def rank(column: ColumnDrift) -> tuple[bool, bool, float]:
        closeness = (column.score or 0.0) / column.threshold if column.threshold else float("inf")
        return column.kind != "prediction", not column.drifted, -closeness

    kept = {c.column for c in sorted(scored, key=rank)[:max_columns]}
    return [c for c in scored if c.column in kept]


@task(name="render-report", cache_policy=NO_CACHE)
def render_window_report(config: ModelConfig, data: WindowData, reference: Reference, drift: DriftSummary,
                         path: Path, reports_root: Path, max_rows: int | None = DEFAULT_MAX_ROWS,
                         max_columns: int | None = None, window_rows: int | None = None) -> str | None:
    """Render the report to `path` and return it; None when no column could be scored. `max_rows=None` and
    `max_columns=None` render every row and every column (`--full-report`). `window_rows`: the window's size
    when `data` holds only a sample the warehouse drew (`source.pull: aggregates`)."""
    scored = [c for c in drift.columns if c.score is not None and c.kind != "target"]
    shown = shown_columns(drift, max_columns)
    columns = [ReportColumn(c.column, c.kind == "numeric" or (c.kind in ("prediction", "target") and
                                                                 _is_numeric(reference.data, c.column)),
                            c.method, c.threshold)
               for c in shown]
    if not columns:
        return None
    names = [c.name for c in columns]
    timestamp = config.source.timestamp
    stamp = f"{data.window.end:%Y%m%dT%H%M}"
    current, ref = data.current, reference.data
    if max_rows is not None:
        current = sample_rows(current, timestamp, max_rows, seed_for(config.name, stamp))
        ref = sample_rows(ref, timestamp, max_rows, seed_for(config.name, f"reference/{reference.version}"))
    banner = (f"{config.name}, window ending {data.window.end:%Y-%m-%d %H:%M} UTC: drawn from a time-stratified "
              f"sample of {len(current):,} of {window_rows or len(data.current):,} window rows"
              + (f" (from {len(data.current):,} the warehouse drew by a hash of their ids)" if window_rows else "")
              + f" and {len(ref):,} of "
              f"{len(reference.data):,} reference rows ({reference.version}). The verdict was decided on every "
              f"row against the reference profile; thresholds shown are the ones it used. "
              + (f"Shown: the {len(shown)} of {len(scored)} scored columns that drifted or are nearest their "
                 f"thresholds (every column's score is in the run's column-drift artifact). "
                 if len(shown) < len(scored) else "")
              + f"{drift.false_alarm_control or ''}")
    typed = [ReportColumn(c.name, c.numeric, c.method, c.threshold) for c in columns]
    cur = pd.DataFrame({c.name: _values(current[c.name], c.numeric) for c in columns})
    base = pd.DataFrame({c.name: _values(ref[c.name], c.numeric) for c in columns if c.name in ref})
    if list(base.columns) != names:
        typed = [c for c in typed if c.name in base]
        cur = cur[[c.name for c in typed]]
    page = render_report(typed, cur, base, banner)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = compact(page, path, reports_root)
    path.write_text(page)
    return str(path)


def store_window_report(config: ModelConfig, data: WindowData, reference: Reference, drift: DriftSummary,
                        key: str, max_rows: int | None = DEFAULT_MAX_ROWS,
                        max_columns: int | None = None, window_rows: int | None = None) -> str | None:
    """Render the report to the artifact `key` (`reports/<model>/<stamp>/drift.html`) and return its URL;
    None when no column could be scored.

    A local store is written in place. A remote one gets the page rendered in a temporary folder laid out like
    the store, then uploaded with the shared bundle when the store does not hold that bundle yet, so the
    page's relative `<script src="../../_assets/…">` resolves wherever the reports folder is served from.
    """
    reports = key.split("/", 1)[0]
    if artifacts.is_local():
        return render_window_report(config, data, reference, drift, Path(artifacts.url_for(key)),
                                    Path(artifacts.url_for(reports)), max_rows=max_rows, max_columns=max_columns,
                                    window_rows=window_rows)
    with tempfile.TemporaryDirectory(prefix="driftflow-report-") as folder:
        local = Path(folder)
        written = render_window_report(config, data, reference, drift, local / key, local / reports,
                                       max_rows=max_rows, max_columns=max_columns, window_rows=window_rows)
        if written is None:
            return None
        assets = local / reports / ASSETS
        for bundle in sorted(assets.iterdir()) if assets.is_dir() else []:
            asset_key = f"{reports}/{ASSETS}/{bundle.name}"
            if not artifacts.exists(asset_key):
                artifacts.upload(bundle, asset_key)
        return artifacts.upload(written, key)


def _is_numeric(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and bool(pd.api.types.is_numeric_dtype(frame[column])
                                    and not pd.api.types.is_bool_dtype(frame[column]))
