"""A stored report opens in a browser: shared stylesheet, packed shared bundle and compressed data still draw the
whole dashboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tasks.monitor.html_report import ReportColumn, compact, render_report
from tests.e2e.browser import render, text


def test_a_compact_report_renders_its_dashboard(chromium: str, tmp_path: Path) -> None:
    """Opened from disk, the report shows the banner, the drift summary and each column's row."""
    rng = np.random.default_rng(0)
    current = pd.DataFrame({"temp": rng.normal(25, 5, 600), "carrier": rng.choice(["UA", "DL"], 600)})
    reference = pd.DataFrame({"temp": rng.normal(20, 5, 600), "carrier": rng.choice(["UA", "DL"], 600)})
    columns = [ReportColumn("temp", True, "wasserstein", 0.1), ReportColumn("carrier", False, "jensenshannon", 0.1)]
    root = tmp_path / "reports"
    path = root / "demo" / "20240101T0000" / "drift.html"
    path.parent.mkdir(parents=True)
    page = render_report(columns, current, reference, "a sample of 600 of 600 rows")
    path.write_text(compact(page, path, root))
    assert sorted(p.suffix for p in (root / "_assets").iterdir()) == [".css", ".js"]
    shown = text(render(chromium, path.as_uri(), "Drifted Columns", "temp"))
    assert "a sample of 600 of 600 rows" in shown
    assert "Dataset Drift" in shown and "Drifted Columns" in shown
    assert "temp" in shown and "carrier" in shown
