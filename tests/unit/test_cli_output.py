"""The verdict table of `run`, `backfill` and `status`: one line per window at any terminal width."""

from __future__ import annotations

import io

import pytest

from flows.cli import output

REASON = ("dataset drift (a warning): 3 of 10 features drifted (share 0.3 >= 0.3): distance 0.069 > 0.068, the "
          "p99 of 25 reference chunks (p 0.0041); carrier 0.029 > 0.018, the p99 of 25 reference chunks (p 0.0032)")


def summary(day: int, verdict: str, reason: str) -> dict[str, object]:
    return {"window_end": f"2013-12-{day:02d}T06:00:00+00:00", "verdict": verdict, "row_count": 6066,
            "reasons": [reason], "drifted_columns": [{"column": "distance", "score": 0.069}],
            "performance": {"metric": "roc_auc", "value": 0.688, "reference": 0.642}}


@pytest.mark.parametrize("width", [80, 140])
def test_each_window_is_one_line_that_fits_the_terminal(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    screen = io.StringIO()
    monkeypatch.setattr(output, "console", Console(file=screen, width=width, color_system=None))
    output.print_verdicts([summary(30, "warn", REASON), summary(23, "insufficient_data", "no drift"),
                           summary(16, "ok", "no drift: 0 of 10 features drifted")])
    lines = screen.getvalue().splitlines()
    assert all(len(line) <= width for line in lines)
    rows = [line for line in lines if line.startswith("│ 2013-12-")]
    assert [r.split("│")[2].strip() for r in rows] == ["warn", "insufficient_data", "ok"]
    assert all("6,066" in r and "0.688 (0.642)" in r for r in rows)
    assert rows[0].rstrip("│ ").endswith("…") and "│ no drift: 0 " in rows[2]
    assert ("no drift: 0 of 10 features drifted " in rows[2]) == (width > 100)  # whole where it fits
    assert "roc_auc (ref)" in screen.getvalue() and "insufficient_data: 1  ok: 1  warn: 1" in screen.getvalue()
