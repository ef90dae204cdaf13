"""The window's Evidently HTML report, rendered from bounded, reproducible samples.

The verdict is computed on every row (against the reference profile); the report is for people, so it is
drawn from a time-stratified sample of at most `max_rows` rows of the window and of the reference, and says
so at its top. Three things keep a year of weekly reports small: what is identical across reports
(Evidently's JavaScript bundle, ~3.5 MB, and its stylesheet with an inlined icon font, ~130 KB) is written
once under `reports/_assets/` and referenced by a relative path; the bundle is stored gzip-compressed (~1.4 MB
as base64); and the report's own data (~1.5 MB of JSON) is stored gzip-compressed too. The browser unpacks
both (`DecompressionStream`, in every current browser, also for a page opened from disk) before the dashboard
is drawn.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_MAX_ROWS = 5_000
STRATA = 20
ASSETS = "_assets"
_PACKED = "driftflowPackedBundle"  # the global the shared, packed bundle sets
# Evidently inlines one bundle that ends by defining window.drawDashboard; everything else is per report.
_DATA = re.compile(r"<script>\s*(var metric_\w+ = .*?)</script>", re.S)
_DRAW = re.compile(r"<script>\s*(window\.drawDashboard\(.*?\);)\s*</script>", re.S)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_BUNDLE = re.compile(r"<script>(var [A-Za-z]{2,4}=Object\.defineProperty;.*?window\.drawDashboard=\w+;\s*)</script>",
                     re.S)


@dataclass(frozen=True)
class ReportColumn:
    """A column as the report shows it: its Evidently kind and the method and threshold pinned for it."""

    name: str
    numeric: bool
    method: str
    threshold: float


def sample_rows(frame: pd.DataFrame, timestamp: str | None, max_rows: int, seed: int) -> pd.DataFrame:
    """At most `max_rows` rows, drawn evenly across time (equal-duration strata), the same for the same seed."""
    if len(frame) <= max_rows:
        return frame
    rng = np.random.default_rng(seed)
    if timestamp is None or timestamp not in frame or frame[timestamp].isna().all():
        return frame.iloc[np.sort(rng.choice(len(frame), max_rows, replace=False))]
    times = frame[timestamp]
    codes = pd.cut(times.astype("int64"), STRATA, labels=False) if times.min() != times.max() \
        else pd.Series(0, index=frame.index)
    positions = np.arange(len(frame))
    chosen = []
    for stratum in np.unique(codes.to_numpy()):
        members = positions[codes.to_numpy() == stratum]
        take = max(1, round(max_rows * len(members) / len(frame)))
        chosen.append(rng.choice(members, min(take, len(members)), replace=False))
    picked = np.concatenate(chosen)
    if len(picked) < max_rows:  # rounding per stratum fell short: top up from the rows not drawn yet
        free = np.ones(len(frame), dtype=bool)
        free[picked] = False
        rest = positions[free]  # what np.setdiff1d(positions, picked) gives, without hashing every row
        picked = np.concatenate([picked, rng.choice(rest, max_rows - len(picked), replace=False)])
    return frame.iloc[np.sort(picked)[:max_rows]]


def seed_for(model: str, stamp: str) -> int:
    """A seed that depends only on the model and the window: the same window gives the same sample."""
    return int.from_bytes(hashlib.sha256(f"{model}/{stamp}".encode()).digest()[:4], "little")


def render_report(columns: list[ReportColumn], current: pd.DataFrame, reference: pd.DataFrame,
                  banner: str) -> str:
    """Evidently's data drift report on the two samples, with `banner` shown above it."""
    from evidently import DataDefinition, Dataset, Report

    from tasks.monitor.report_preset import DriftTablePreset

    definition = DataDefinition(numerical_columns=[c.name for c in columns if c.numeric],
                                categorical_columns=[c.name for c in columns if not c.numeric])
    preset = DriftTablePreset(columns=[c.name for c in columns],
                              per_column_method={c.name: c.method for c in columns},
                              per_column_threshold={c.name: c.threshold for c in columns})
    names = [c.name for c in columns]
    with np.errstate(divide="ignore", invalid="ignore"):
        snapshot = Report([preset]).run(
            current_data=Dataset.from_pandas(current[names], data_definition=definition),
            reference_data=Dataset.from_pandas(reference[names], data_definition=definition))
    page = snapshot.get_html_str(as_iframe=False)
    note = (f'<div style="font-family:sans-serif;padding:10px 16px;background:#fff8e1;border-bottom:1px solid '
            f'#e0c97a">{html.escape(banner)}</div>')
    return page.replace("<body>", "<body>" + note, 1) if "<body>" in page else note + page


def share_assets(page: str, report_path: Path, reports_root: Path) -> str:
    """Move what every report repeats to `reports_root/_assets/` (once) and point the page at it: the bundle,
    stored packed (gzip + base64, unpacked by the page's loader) and the stylesheet."""
    relative = Path(*[".."] * (len(report_path.parent.relative_to(reports_root).parts))) / ASSETS
    head = page.find("<script")  # the stylesheet comes first; a script may hold "<style>" as text
    style = max(_STYLE.finditer(page, 0, head if head >= 0 else len(page)), key=lambda m: len(m.group(1)),
                default=None)
    if style is not None:
        name = _write_asset(reports_root, style.group(1), ".css")
        page = page[:style.start()] + f'<link rel="stylesheet" href="{(relative / name).as_posix()}">' \
            + page[style.end():]
    bundle = _BUNDLE.search(page)
    if bundle is not None:
        name = _write_asset(reports_root, bundle.group(1), ".js", packed=True)
        page = page[:bundle.start()] + f'<script src="{(relative / name).as_posix()}"></script>' \
            + page[bundle.end():]
    return page


def _write_asset(reports_root: Path, content: str, suffix: str, *, packed: bool = False) -> str:
    """`<hash of the content><suffix>` under the assets folder, written only when it is not there yet; a
    `packed` script is stored packed, named by what it unpacks to, so a report whose bundle is there already
    does not pack it again (0.25 s)."""
    name = hashlib.sha256((f"{_PACKED}:" if packed else "").encode() + content.encode()).hexdigest()[:16] + suffix
    asset = reports_root / ASSETS / name
    if not asset.exists():
        asset.parent.mkdir(parents=True, exist_ok=True)
        asset.write_text(f'window.{_PACKED} = "{_pack(content)}";\n' if packed else content)
    return name


def _pack(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode(), compresslevel=9, mtime=0)).decode()


def compress_data(page: str) -> str:
    """Store the report's data gzip-compressed; once the shared bundle has loaded, the page unpacks the bundle
    (when it is stored packed), then the data, then draws."""
    data, draw = _DATA.search(page), _DRAW.search(page)
    if data is None or draw is None:
        return page
    loader = ("<script>(async function () {\n"
              "  async function unpack(packed) {\n"
              "    const bytes = Uint8Array.from(atob(packed), function (c) { return c.charCodeAt(0); });\n"
              '    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));\n'
              "    return new Response(stream).text();\n"
              "  }\n"
              f"  if (window.{_PACKED}) {{ (0, eval)(await unpack(window.{_PACKED})); }}\n"
              f'  (0, eval)(await unpack("{_pack(data.group(1))}"));\n'
              f"  {draw.group(1)}\n"
              "})();</script>")
    page = page[:draw.start()] + loader + page[draw.end():]
    return page[:data.start()] + page[data.end():]


def compact(page: str, report_path: Path, reports_root: Path) -> str:
    """The page as stored: shared assets referenced, data compressed."""
    return compress_data(share_assets(page, report_path, reports_root))
