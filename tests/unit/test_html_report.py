"""The window's HTML report: bounded, reproducible samples; shared, packed assets; compressed data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.monitor.html_report import (
    ASSETS,
    ReportColumn,
    compress_data,
    render_report,
    sample_rows,
    seed_for,
    share_assets,
)

COLUMNS = [ReportColumn("temp", True, "wasserstein", 0.1), ReportColumn("carrier", False, "jensenshannon", 0.1)]


def frame(rows: int, *, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "ts": pd.date_range("2024-01-01", periods=rows, freq="min", tz="UTC"),
        "temp": rng.normal(20 + shift, 5, rows),
        "carrier": rng.choice(["UA", "B6", "DL"], rows),
    })


def test_a_sample_is_bounded_reproducible_and_spread_over_the_whole_window() -> None:
    """At most max_rows rows, the same ones for the same seed, and every tenth of the window represented."""
    data = frame(50_000, seed=1)
    seed = seed_for("flights-delay", "20130204T0600")
    first, second = sample_rows(data, "ts", 2_000, seed), sample_rows(data, "ts", 2_000, seed)
    assert len(first) <= 2_000 and first.index.equals(second.index)
    assert first["ts"].is_monotonic_increasing
    deciles = pd.cut(first["ts"].astype("int64"), 10, labels=False).value_counts()
    assert len(deciles) == 10 and deciles.min() >= 150
    assert not sample_rows(data, "ts", 2_000, seed + 1).index.equals(first.index)
    assert sample_rows(data.iloc[:100], "ts", 2_000, seed).equals(data.iloc[:100])


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(COLUMNS, frame(800, seed=2, shift=3), frame(800, seed=3),
                         "a sample of 800 of 1,000,000 rows")


def test_the_report_says_it_is_a_sample(page: str) -> None:
    assert "a sample of 800 of 1,000,000 rows" in page


def test_reports_share_one_stylesheet_and_one_packed_bundle_written_once(page: str, tmp_path: Path) -> None:
    """Two reports reference the same stylesheet and bundle by relative paths; the bundle is stored packed
    (gzip + base64, well under half its size) and unpacks to Evidently's own script."""
    import base64
    import gzip
    import re

    root = tmp_path / "reports"
    one, two = root / "m" / "20240101T0000" / "drift.html", root / "m" / "20240108T0000" / "drift.html"
    small_one, small_two = share_assets(page, one, root), share_assets(page, two, root)
    [style, bundle] = sorted((root / ASSETS).iterdir(), key=lambda p: p.suffix)
    assert (style.suffix, bundle.suffix) == (".css", ".js")
    assert f'<link rel="stylesheet" href="../../{ASSETS}/{style.name}">' in small_one
    assert f'<script src="../../{ASSETS}/{bundle.name}"></script>' in small_one
    assert small_one == small_two and "<style>" not in small_one and "@font-face" in style.read_text()
    assert len(small_one) < len(page) / 4
    packed = re.fullmatch(r'window\.\w+ = "([A-Za-z0-9+/=]+)";\n', bundle.read_text())
    assert packed is not None
    script = gzip.decompress(base64.b64decode(packed.group(1))).decode()
    assert "window.drawDashboard=" in script and script in page
    assert bundle.stat().st_size < len(script) / 2


def test_compressed_data_keeps_every_value_and_the_draw_call(page: str) -> None:
    """The data leaves the page in gzip+base64 form, to be unpacked before the dashboard is drawn."""
    import base64
    import gzip
    import re

    packed = compress_data(page)
    assert "var metric_" not in packed and "DecompressionStream" in packed
    blob = re.search(r'unpack\("([A-Za-z0-9+/=]+)"\)', packed)
    assert blob is not None
    data = gzip.decompress(base64.b64decode(blob.group(1))).decode()
    assert data.startswith("var metric_") and data in page
    assert packed.index("window.drawDashboard(") > packed.index("DecompressionStream")
    assert len(page) - len(packed) > len(data) / 2  # the data shrinks to well under half


def test_the_report_draws_the_page_evidentlys_own_preset_draws(page: str) -> None:
    """The preset without per-column ValueDrift metrics renders what DataDriftPreset renders (ids aside)."""
    import re

    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=["temp"], categorical_columns=["carrier"])
    preset = DataDriftPreset(columns=["temp", "carrier"],
                             per_column_method={c.name: c.method for c in COLUMNS},
                             per_column_threshold={c.name: c.threshold for c in COLUMNS})
    names = [c.name for c in COLUMNS]
    own = Report([preset]).run(
        current_data=Dataset.from_pandas(frame(800, seed=2, shift=3)[names], data_definition=definition),
        reference_data=Dataset.from_pandas(frame(800, seed=3)[names], data_definition=definition),
    ).get_html_str(as_iframe=False)

    def content(html: str) -> str:
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}", "id", html)

    banner = re.compile(r'<div style="font-family:sans-serif[^>]*>a sample of 800 of 1,000,000 rows</div>')
    assert banner.search(page) and "Dataset Drift" in own
    assert content(banner.sub("", page)) == content(own)
