"""Validating one large window: Great Expectations on the pulled pandas frame, or inside PostgreSQL.

    uv run python benchmarks/validate_window.py                  # the 1M-row window of monitor_window.py
    uv run python benchmarks/validate_window.py --rows 100000    # a quick run

It reuses (or builds) `monitor_window.py`'s table, model and 35-expectation suite, then validates the window
each way in a fresh child process (libraries imported before the clock), twice each (the second of each is
printed):

- pandas: what the monitor does, `read_range` (ConnectorX) of the monitored columns, then `validate_window`;
- warehouse: GX's PostgreSQL data source (`create_temp_table=True`, the field notes' faster setting) with the
  window query as a query asset: every expectation runs as SQL and only its result leaves the warehouse.

It prints seconds, peak RSS and whether both give the same outcome (success and unexpected count) for every
expectation.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from monitor_window import MODEL, WINDOW_END, on_the_window


def _key(result: Any) -> str:
    config = result.expectation_config
    return f"{config.type}({config.kwargs.get('column', '')})"


def child(approach: str) -> dict[str, Any]:
    """Validate the window one way; returns seconds and each expectation's outcome."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from tasks.config import load_model_config
    from tasks.monitor.suites import _quiet, load_suite
    from tasks.monitor.validate import validate_window
    from tasks.source.query import read_range, window_query
    from tasks.source.readers import inline_sql

    config = load_model_config(MODEL)
    start, end = WINDOW_END - timedelta(days=7), WINDOW_END
    began = time.perf_counter()
    if approach == "pandas":
        frame = read_range(config, config.monitored_columns, start, end)
        read = time.perf_counter()
        summary = validate_window.fn(config, frame, end).summary
        outcomes = {f"{o.expectation}({o.column or ''})": [o.success, o.unexpected_count] for o in summary.outcomes}
    else:
        read = began
        url = os.environ["DRIFTFLOW_WAREHOUSE_URL"]
        query = inline_sql(window_query(config, config.monitored_columns, start, end).order_by(None))
        with _quiet():
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            source = context.data_sources.add_postgres("warehouse", connection_string=url, create_temp_table=True)
            batch = source.add_query_asset("window", query=query).add_batch_definition_whole_table("whole")
            suite = context.suites.add(load_suite(MODEL))
            definition = gx.ValidationDefinition(name="window", data=batch, suite=suite)
            results = definition.run(result_format="BASIC").results
        outcomes = {_key(r): [r.success, (r.result or {}).get("unexpected_count")] for r in results}
    done = time.perf_counter()
    return {"read_s": read - began, "validate_s": done - read, "work_s": done - began, "outcomes": outcomes}


def main() -> None:
    runs = on_the_window(__file__, __doc__, child, ("pandas", "warehouse"))
    if runs is None:
        return
    print(f"\n{'approach':<11}{'process s':>10}{'work s':>8}{'read s':>8}{'validate s':>12}{'peak RSS MB':>13}")
    for name, run in runs.items():
        r = run.result
        print(f"{name:<11}{run.wall:>10.1f}{r['work_s']:>8.2f}{r['read_s']:>8.2f}{r['validate_s']:>12.2f}"
              f"{run.peak_rss_mb:>13,.0f}")
    pulled, inside = runs["pandas"].result["outcomes"], runs["warehouse"].result["outcomes"]
    differ = [k for k in pulled if pulled[k] != inside.get(k)]
    print(f"\n{len(pulled)} expectations in pandas, {len(inside)} in the warehouse; "
          f"the same outcome on {len(pulled) - len(differ)}")
    for key in differ:
        print(f"  {key}: pandas {pulled[key]}, warehouse {inside.get(key)}")


if __name__ == "__main__":
    main()
