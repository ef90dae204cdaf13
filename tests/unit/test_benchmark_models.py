"""The benchmark's generated model and suite are ones driftflow accepts whole, and its data drifts as stated.

benchmarks/monitor_window.py and benchmarks/many_models.py write these files for a model nobody reviews by
hand; a setting the configuration rejects, or an expectation GX would silently skip, would make the benchmark
measure something else than it says.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import monitor_window as bench

from tasks.config.load import parse_model_config
from tasks.monitor.suites import load_suite


def test_generated_model_and_suite_load_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_model_config(bench.model_yaml("bench_table", "bench-x"), "bench-x.yaml")
    assert config.source.table == "bench_table"
    assert len(config.columns.numeric) + len(config.columns.categorical) == 22
    assert config.drift.threshold == bench.THRESHOLD and config.drift.false_alarms.control == "none"
    (tmp_path / "expectations").mkdir()
    written = bench.suite("bench-x")
    (tmp_path / "expectations" / "bench-x.json").write_text(json.dumps(written))
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(tmp_path))
    assert len(load_suite("bench-x").expectations) == len(written["expectations"]) == 35


def test_generated_window_shifts_only_the_stated_columns() -> None:
    start = bench.START
    reference = bench.frame_chunk(50_000, 1, 0, start, 7 * 86400, shift=False)
    window = bench.frame_chunk(50_000, 2, 10**9, start, 7 * 86400, shift=True)
    assert list(reference.columns) == bench.COLUMNS
    moved = {c: abs(window[c].mean() - reference[c].mean()) / reference[c].std() for c in bench.NUMERIC}
    assert moved["n00"] == pytest.approx(bench.SHIFTED["n00"], abs=0.03)
    assert max(v for c, v in moved.items() if c not in bench.SHIFTED) < 0.03
    rare = "c1_9"
    assert np.mean(window["c1"] == rare) > np.mean(reference["c1"] == rare) + 0.15
