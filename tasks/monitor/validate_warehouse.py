"""Validate a window inside a PostgreSQL warehouse (`source.pull: aggregates`): the suite runs as SQL.

The window's rows never leave the warehouse: Great Expectations' PostgreSQL data source runs every expectation
on the window's query (a temporary table, the field notes' faster setting) and only the results come back.
Quarantine leaves failing rows out of what is measured, which needs the rows: a suite with quarantine
expectations gives a summary with the reason as `error` (the window is blocked), never a silent pass.
"""

from __future__ import annotations

from datetime import UTC

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.config import ModelConfig
from tasks.db import warehouse_engine
from tasks.monitor.suites import SuiteError, _quiet, freshness_lag, load_suite
from tasks.monitor.validate import _outcome, _split, numbered
from tasks.results import ValidationSummary, Window
from tasks.settings import warehouse_url
from tasks.source.pushdown import exact_source
from tasks.source.query import translated_errors, window_query
from tasks.source.readers import inline_sql


@task(name="validate-in-warehouse", cache_policy=NO_CACHE)
def validate_in_warehouse(config: ModelConfig, window: Window) -> ValidationSummary:
    """Run the model's suite on the window inside the warehouse; a suite that cannot run there gives a summary
    with `error` set (the window is blocked)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    name = config.validation.suite
    try:
        suite = load_suite(name)
    except SuiteError as exc:
        return ValidationSummary(suite=name, outcomes=[], error=str(exc))
    written = numbered(suite)
    quarantine, others = _split(suite, config)
    if quarantine.expectations:
        return ValidationSummary(suite=name, outcomes=[], error=(
            f"suite {name!r} quarantines rows ({len(quarantine.expectations)} expectation(s)), which needs the rows; "
            "with source.pull: aggregates they stay in the warehouse: make those expectations block or warn"))
    url = warehouse_url()
    engine = warehouse_engine(url)
    with translated_errors(config, url):
        shape = exact_source(engine, config)
    end = pd.Timestamp(window.end).tz_convert(UTC)
    end = end if shape.kind == "tz" else end.tz_localize(None)  # as the column compares: naive UTC or aware
    parameters = {"window_end": end, "freshness_min": end - freshness_lag(suite)}
    query = inline_sql(window_query(config, config.monitored_columns, window.start, window.end, kind=shape.kind,
                                    dialect=shape.dialect).order_by(None))
    try:
        with _quiet():
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            source = context.data_sources.add_postgres("warehouse", connection_string=url, create_temp_table=True)
            batch = source.add_query_asset("window", query=query).add_batch_definition_whole_table("whole")
            definition = gx.ValidationDefinition(name="window", data=batch, suite=context.suites.add(others))
            results = definition.run(expectation_parameters=parameters, result_format="BASIC").results
    except Exception as exc:
        return ValidationSummary(suite=name, outcomes=[], error=f"suite {name!r} could not run in the warehouse: "
                                 f"{' '.join(str(exc).split())}")
    outcomes = [_outcome(r, config, parameters, written) for r in results]
    outcomes.sort(key=lambda o: -1 if o.position is None else o.position)
    return ValidationSummary(suite=name, outcomes=outcomes)
