"""One large window, end to end: the plain approach, driftflow's monitor run and two floors.

    uv run python benchmarks/monitor_window.py                    # 1M-row window, 100k-row reference
    uv run python benchmarks/monitor_window.py --rows 100000      # a quick run
    uv run python benchmarks/monitor_window.py --only driftflow,floor

The first run builds, in PostgreSQL (`--url`, else DRIFTFLOW_BENCH_POSTGRES_URL, else the local server's
database `driftflow_bench`, created if missing), the table `bench_window_<rows>_<reference rows>`: 26 columns
(id, timestamp, 17 numeric and 5 categorical features, prediction, 0/1 target), the reference week then the
window week, loaded with COPY. It writes a model configuration and its expectation suite under
`.driftflow/bench/monitor-window-<rows>-<reference rows>/` (used through DRIFTFLOW_PROJECT_DIR) and registers
the reference week through the public `tasks.registry.register.register_model` (`--logged`). Later runs reuse all of it.

Then, in one run, each approach in a fresh child process (time and peak RSS are that process's own):

- plain: `pd.read_sql` of window and reference, a Great Expectations validation of the same suite on the
  window frame, an Evidently `DataDriftPreset` on the full frames with the model's methods and thresholds,
  `save_html`;
- driftflow: `flows.monitor.monitor` on the same window, in process, against a Prefect server this script
  starts (as production runs against one);
- floor-scipy: ConnectorX reads the window's needed columns into pandas, then numpy/scipy compute the same
  drift scores against cached reference statistics (the floor as a team would write it);
- floor: the same read, then driftflow's own scoring against the stored reference profile (a stricter floor:
  that scoring is part of what driftflow brings).

Each child imports the libraries its approach runs before its clock starts. It prints seconds (the child's
whole life, imports included, and its work after imports), peak RSS, CPU
seconds and the ratios, and compares driftflow's drifted columns and verdict with the full-data Evidently run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import (
    DEFAULT_URL,
    QUIET,
    ChildRun,
    ensure_database,
    libpq,
    load_average,
    prefect_server,
    run_child,
    table_rows,
)

MODEL = "bench-window"
COUNTED = "bench-window-aggregates"  # the same model with `source.pull: aggregates`
ROOT = Path(__file__).resolve().parent.parent
START = datetime(2013, 1, 7, tzinfo=UTC)  # a Monday: the reference week, then the window week
WINDOW_END = START + timedelta(days=14)
NUMERIC = [f"n{i:02d}" for i in range(17)]
CATEGORICAL = [f"c{i}" for i in range(5)]
CARDINALITY = [3, 10, 50, 300, 2000]
# In the window: n00 moves by 0.3 reference standard deviations (drifts at 0.1), n06 by 0.05 (does not),
# and a fifth of c1's rows take its rarest category (drifts).
SHIFTED = {"n00": 0.3, "n06": 0.05, "c1": 0.2}
THRESHOLD = 0.1
DATASET_SHARE = 0.05
CHUNK = 200_000


def frame_chunk(rows: int, seed: int, first_id: int, start: datetime, seconds: int, shift: bool) -> Any:
    """`rows` rows of the 26 columns, spread over `seconds` from `start`, shifted when `shift`."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {
        "id": np.arange(first_id, first_id + rows, dtype=np.int64),
        "ts": pd.to_datetime(start.replace(tzinfo=None)) + pd.to_timedelta(
            np.sort(rng.integers(0, seconds, rows)), unit="s")}
    for i, name in enumerate(NUMERIC):
        shape = i % 5
        if shape == 0:
            values = rng.normal(10 * i, 1 + i, rows)
            std = 1.0 + i
        elif shape == 1:
            values, std = rng.lognormal(1, 0.6, rows), 2.0
        elif shape == 2:
            values, std = rng.standard_t(5, rows), 1.3
        elif shape == 3:
            values, std = rng.integers(0, 24, rows).astype("float64"), 6.9
        else:
            values, std = np.where(rng.random(rows) < 0.7, 0.0, rng.exponential(3, rows)), 2.6
        if shift and name in SHIFTED:
            values = values + SHIFTED[name] * std
        values[rng.random(rows) < 0.01] = np.nan
        data[name] = values
    for name, size in zip(CATEGORICAL, CARDINALITY, strict=True):
        weights = 1 / np.arange(1, size + 1)
        labels = np.array([f"{name}_{k}" for k in range(size)], dtype=object)
        values = labels[rng.choice(size, rows, p=weights / weights.sum())]
        if shift and name in SHIFTED:
            values[rng.random(rows) < SHIFTED[name]] = labels[-1]
        data[name] = values
    logit = -1.0 + 0.8 * (data["n01"] - 3.3) / 2.0 - 0.5 * np.nan_to_num(data["n02"])
    proba = 1 / (1 + np.exp(-np.nan_to_num(logit)))
    data["prediction"] = np.clip(proba + rng.normal(0, 0.05, rows), 0.001, 0.999)
    data["target"] = (rng.random(rows) < proba).astype("float64")
    return pd.DataFrame(data)


COLUMNS = ["id", "ts", *NUMERIC, *CATEGORICAL, "prediction", "target"]


def ensure_table(url: sa.URL, table: str, rows: int, reference_rows: int) -> None:
    """The reference week then the window week, loaded once with COPY; reused when complete."""
    import io

    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from psycopg import sql

    if table_rows(url, table) == rows + reference_rows:
        print(f"reusing {table} ({reference_rows:,} reference + {rows:,} window rows)", flush=True)
        return
    started = time.perf_counter()
    types = ["bigint", "timestamp", *["double precision"] * len(NUMERIC), *["text"] * len(CATEGORICAL),
             "double precision", "double precision"]
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in zip(COLUMNS, types, strict=True))))
        copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(sql.Identifier(table))
        week = 7 * 86400
        parts = [(START, reference_rows, False, 0), (START + timedelta(days=7), rows, True, 10_000_000_000)]
        with conn.cursor().copy(copy_sql) as copy:
            for part, (start, total, shift, first_id) in enumerate(parts):
                for n, offset in enumerate(range(0, total, CHUNK)):
                    size = min(CHUNK, total - offset)
                    # each chunk covers its own slice of the week, so rows arrive in time order
                    span = week // max(1, -(-total // CHUNK))
                    chunk = frame_chunk(size, 1000 * part + n, first_id + offset,
                                        start + timedelta(seconds=n * span), span, shift)
                    arrow = pa.Table.from_pandas(chunk, preserve_index=False)
                    arrow = arrow.set_column(1, "ts", arrow.column("ts").cast(pa.timestamp("us")))
                    buffer = io.BytesIO()
                    pacsv.write_csv(arrow, buffer, pacsv.WriteOptions(include_header=False))
                    copy.write(buffer.getvalue())
        conn.execute(sql.SQL("CREATE INDEX ON {} (ts)").format(sql.Identifier(table)))
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    print(f"created {table}: {reference_rows:,} + {rows:,} rows in {time.perf_counter() - started:.1f} s",
          flush=True)


def model_yaml(table: str, name: str = MODEL, numeric: Sequence[str] = tuple(NUMERIC),
               categorical: Sequence[str] = tuple(CATEGORICAL), pull: str = "rows") -> str:
    """A model configuration for `table`: fixed thresholds, features as breaches, one window decides; it
    monitors the `numeric` and `categorical` features given (by default all 22)."""
    return f"""# Benchmark model: written by benchmarks/monitor_window.py or benchmarks/many_models.py
name: {name}
task: classification
source: {{table: {table}, timestamp: ts, id: id, pull: {pull}}}
columns:
  numeric: [{", ".join(numeric)}]
  categorical: [{", ".join(categorical)}]
  prediction: prediction
  target: {{column: target}}
schedule: {{cron: "0 0 * * 1", timezone: UTC, window: 7d}}
reference: {{from: champion_training_window}}
validation: {{suite: {name}, on_failure: block}}
drift:
  numeric_method: wasserstein
  categorical_method: jensenshannon
  threshold: {THRESHOLD}            # fixed, so decisions compare one to one with Evidently's
  dataset_share: {DATASET_SHARE}
  false_alarms: {{control: none}}
  severity: {{features: breach}}
performance: {{metric: roc_auc, max_drop: 0.05, min_labelled_rows: 500}}
policy: {{persistence: {{breaches: 1, of_last: 1}}, min_rows: 500}}
"""


def suite(name: str = MODEL) -> dict[str, Any]:
    """35 expectations: row count, every column present, keys, ranges, category sets, prediction, labels."""
    def item(kind: str, severity: str = "critical", **kwargs: Any) -> dict[str, Any]:
        return {"type": kind, "kwargs": kwargs, "meta": {}, "severity": severity}

    items = [item("expect_table_row_count_to_be_between", min_value=1)]
    items += [item("expect_column_to_exist", column=c) for c in COLUMNS]
    items += [item("expect_column_values_to_not_be_null", column="id"),
              item("expect_column_values_to_be_unique", column="id"),
              item("expect_column_values_to_not_be_null", column="ts"),
              item("expect_column_values_to_be_between", column="n03", min_value=0, max_value=23),
              item("expect_column_values_to_be_between", column="n04", min_value=0, severity="warning"),
              item("expect_column_values_to_be_in_set", column="c0", value_set=["c0_0", "c0_1", "c0_2"]),
              item("expect_column_values_to_be_between", column="prediction", min_value=0, max_value=1),
              item("expect_column_values_to_be_in_set", column="target", value_set=[0, 1])]
    return {"name": name, "expectations": items, "meta": {"description": "benchmark window"}}


def prepare(args: argparse.Namespace) -> dict[str, str]:
    """Table, model files, store and registered reference; returns the environment the children run in."""
    url = sa.make_url(args.url)
    ensure_database(url)
    table = f"bench_window_{args.rows}_{args.reference_rows}"
    ensure_table(url, table, args.rows, args.reference_rows)
    project = ROOT / ".driftflow" / "bench" / f"monitor-window-{args.rows}-{args.reference_rows}"
    if args.fresh and project.exists():  # a new store: the reference is registered (and profiled) again
        shutil.rmtree(project)
    (project / "deployments" / "models").mkdir(parents=True, exist_ok=True)
    (project / "expectations").mkdir(parents=True, exist_ok=True)
    (project / "deployments" / "models" / f"{MODEL}.yaml").write_text(model_yaml(table))
    (project / "expectations" / f"{MODEL}.json").write_text(json.dumps(suite(), indent=2))
    (project / "deployments" / "models" / f"{COUNTED}.yaml").write_text(model_yaml(table, COUNTED, pull="aggregates"))
    (project / "expectations" / f"{COUNTED}.json").write_text(json.dumps(suite(COUNTED), indent=2))
    env = {**os.environ, **QUIET, "DRIFTFLOW_PROJECT_DIR": str(project), "DRIFTFLOW_HOME": str(project / "home"),
           "DRIFTFLOW_WAREHOUSE_URL": url.render_as_string(hide_password=False),
           "DRIFTFLOW_STORE_URL": f"sqlite:///{project / 'home' / 'store.db'}",
           "DRIFTFLOW_BENCH_TABLE": table}
    (project / "home").mkdir(exist_ok=True)
    registered = run_child([__file__, "--child", "register"], env)
    print(f"reference: {registered.result['note']} ({registered.wall:.1f} s)", flush=True)
    return env


# ---------------------------------------------------------------- children (each in its own process)

def child_register() -> dict[str, Any]:
    """Register the reference week through the public path (idempotent: a second run changes nothing), for
    each of the two models the project configures (scaling.py's projects configure only the first)."""
    from tasks.config import load_model_config
    from tasks.config.load import list_models
    from tasks.registry.register import register_model
    from tasks.store.engine import open_store

    notes = []
    for model in [m for m in (MODEL, COUNTED) if m in list_models()]:
        done = register_model(open_store(), load_model_config(model), reference_start=START,
                              reference_end=START + timedelta(days=7), logged=True)
        state = "registered" if done.created else "already registered"
        notes.append(f"{model} {state} v{done.version}, reference {done.reference_version} of "
                     f"{done.reference_rows:,} rows")
    return {"note": "; ".join(notes)}


def _window_sql(config: Any, columns: list[str], start: datetime, end: datetime) -> str:
    from tasks.source.query import window_query
    from tasks.source.readers import inline_sql

    return inline_sql(window_query(config, columns, start, end))


def _read_columns(config: Any) -> Any:
    """The window's needed columns, read with ConnectorX into pandas (Arrow): the floor's read."""
    import connectorx as cx

    url = sa.make_url(os.environ["DRIFTFLOW_WAREHOUSE_URL"]).set(drivername="postgresql")
    query = _window_sql(config, config.monitored_columns, WINDOW_END - timedelta(days=7), WINDOW_END)
    return cast(Any, cx.read_sql(url.render_as_string(hide_password=False), query, return_type="arrow")).to_pandas()


def pinned_columns(config: Any) -> list[tuple[str, str, str]]:
    """(column, kind, method) for every scored column: the features, the prediction and the 0/1 label."""
    cols = config.columns
    numeric = [*cols.drift_numeric, cols.prediction]
    categorical = [*cols.drift_categorical, cols.target.column]
    return [*((c, "numeric", config.drift.method_for(c, "numeric")) for c in numeric),
            *((c, "categorical", config.drift.method_for(c, "categorical")) for c in categorical)]


def stored_profile(model: str = MODEL) -> Any:
    """The reference profile the store holds for `model` (registered by `prepare`)."""
    from tasks.registry.profiles import read_profile
    from tasks.store.engine import open_store
    from tasks.store.schema import reference_snapshots

    with open_store().connect() as conn:
        location = conn.execute(sa.select(reference_snapshots.c.profile_path)
                                .where(reference_snapshots.c.model == model)).scalar_one()
    return read_profile(str(location))


def child_floor() -> dict[str, Any]:
    """The least work that gives the same drift scores with driftflow's own scoring: the window's needed
    columns read with ConnectorX, every scored column scored against the reference's stored profile (on every
    core), nothing else: no validation, performance, report or record."""
    started = time.perf_counter()
    from concurrent.futures import ThreadPoolExecutor

    import connectorx  # noqa: F401

    import tasks.registry.profiles  # noqa: F401  # stored_profile's import, made before the clock starts
    from tasks.config import load_model_config
    from tasks.monitor.scores import score_column

    config = load_model_config(MODEL)
    imported, cpu = time.perf_counter(), time.process_time()
    frame = _read_columns(config)
    read = time.perf_counter()
    profile = stored_profile()
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        scored = list(pool.map(lambda p: score_column(p[2], profile[p[0]], frame[p[0]], THRESHOLD),
                               pinned_columns(config)))
    done = time.perf_counter()
    return {"rows": len(frame), "columns": frame.shape[1], "import_s": imported - started,
            "work_s": done - imported, "work_cpu_s": time.process_time() - cpu,
            "scores": {s.column: s.score for s in scored}, "phases": {"read": read - imported, "score": done - read}}


def child_floor_scipy() -> dict[str, Any]:
    """The floor as a team would write it: the window's needed columns read with ConnectorX, then the same
    scores with numpy/scipy against cached reference statistics (each numeric column's finite values, each
    categorical column's counts, prepared before the clock starts): `scipy.stats.wasserstein_distance` over
    the reference's standard deviation, `scipy.spatial.distance.jensenshannon` of the category shares, one
    column per thread on every core."""
    started = time.perf_counter()
    from concurrent.futures import ThreadPoolExecutor

    import connectorx  # noqa: F401
    import numpy as np
    import pandas as pd
    from scipy import stats
    from scipy.spatial import distance

    from tasks.config import load_model_config
    from tasks.monitor.profile import label
    from tasks.source.query import read_range

    config = load_model_config(MODEL)
    pinned = pinned_columns(config)
    reference = read_range(config, [c for c, _, _ in pinned], START, START + timedelta(days=7))  # every row

    def finite(values: Any) -> Any:
        array = np.asarray(values, dtype="float64")
        return array[np.isfinite(array)]

    def shares(values: Any) -> dict[str, float]:
        counts = pd.Series(values).value_counts(dropna=True)
        return {str(label(k)): float(v) for k, v in counts.items()}

    cached = {c: finite(reference[c]) if kind == "numeric" else shares(reference[c]) for c, kind, _ in pinned}
    spread = {c: max(float(np.std(v)), 0.001) for c, v in cached.items() if isinstance(v, np.ndarray)}
    imported, cpu = time.perf_counter(), time.process_time()
    frame = _read_columns(config)
    read = time.perf_counter()

    def score(column: str) -> float:
        ref = cached[column]
        if isinstance(ref, np.ndarray):
            return float(stats.wasserstein_distance(ref, finite(frame[column]))) / spread[column]
        cur = shares(frame[column])
        union = sorted(set(ref) | set(cur))
        return float(distance.jensenshannon([ref.get(k, 0.0) for k in union], [cur.get(k, 0.0) for k in union]))

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        scores = dict(zip([c for c, _, _ in pinned], pool.map(score, [c for c, _, _ in pinned]), strict=True))
    done = time.perf_counter()
    return {"rows": len(frame), "columns": frame.shape[1], "import_s": imported - started,
            "work_s": done - imported, "work_cpu_s": time.process_time() - cpu, "scores": scores,
            "phases": {"read": read - imported, "score": done - read}}


def child_plain(report_dir: str) -> dict[str, Any]:
    """What a team glues by hand: read_sql, GX on pandas, Evidently's DataDriftPreset, save_html."""
    started = time.perf_counter()
    import great_expectations as gx
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    from tasks.config import load_model_config

    config = load_model_config(MODEL)
    imported, cpu = time.perf_counter(), time.process_time()
    phases: dict[str, float] = {}
    engine = sa.create_engine(os.environ["DRIFTFLOW_WAREHOUSE_URL"])
    table = os.environ["DRIFTFLOW_BENCH_TABLE"]
    query = sa.text(f"SELECT * FROM {table} WHERE ts >= :start AND ts < :end ORDER BY ts, id")
    naive = {"start": START.replace(tzinfo=None), "middle": START.replace(tzinfo=None) + timedelta(days=7),
             "end": WINDOW_END.replace(tzinfo=None)}
    with engine.connect() as conn:
        current = pd.read_sql(query, conn, params={"start": naive["middle"], "end": naive["end"]})
        reference = pd.read_sql(query, conn, params={"start": naive["start"], "end": naive["middle"]})
    phases["read"] = time.perf_counter() - imported

    mark = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    path = Path(os.environ["DRIFTFLOW_PROJECT_DIR"]) / "expectations" / f"{MODEL}.json"
    expectations = context.suites.add(gx.ExpectationSuite(**json.loads(path.read_text())))
    batch = context.data_sources.add_pandas("warehouse").add_dataframe_asset("window") \
        .add_batch_definition_whole_dataframe("all")
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name="window", data=batch, suite=expectations))
    validated = validation.run(batch_parameters={"dataframe": current})
    phases["validate"] = time.perf_counter() - mark

    mark = time.perf_counter()
    columns = [*config.columns.numeric, *config.columns.categorical, config.columns.prediction]
    numeric = [*config.columns.numeric, config.columns.prediction]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=list(config.columns.categorical))
    preset = DataDriftPreset(columns=columns, drift_share=config.drift.dataset_share,
                             per_column_method={c: config.drift.method_for(c, "numeric" if c in numeric
                                                                           else "categorical") for c in columns},
                             per_column_threshold={c: config.drift.threshold_for(c) for c in columns})
    with np.errstate(divide="ignore", invalid="ignore"):
        snapshot = Report([preset], include_tests=True).run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition))
    phases["evidently"] = time.perf_counter() - mark
    mark = time.perf_counter()
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    html = Path(report_dir) / "plain-drift.html"
    snapshot.save_html(str(html))
    phases["save_html"] = time.perf_counter() - mark
    done = time.perf_counter()
    flags, scores, share = evidently_flags(json.loads(snapshot.json()))
    return {"rows": len(current), "reference_rows": len(reference), "import_s": imported - started,
            "work_s": done - imported, "work_cpu_s": time.process_time() - cpu, "phases": phases,
            "validation_success": bool(validated.success),
            "expectations": len(validated.results), "drifted": sorted(c for c, f in flags.items() if f),
            "scores": scores, "dataset_drift_share": share, "html_mb": html.stat().st_size / 2**20}


def evidently_flags(payload: dict[str, Any]) -> tuple[dict[str, bool], dict[str, float], float | None]:
    """Per column: Evidently's own test status on its ValueDrift (FAIL = drifted) and the score; the share."""
    failed = {t["metric_config"]["metric_id"]: t["status"] == "FAIL" for t in payload.get("tests", [])}
    flags, scores, share = {}, {}, None
    for metric in payload["metrics"]:
        kind = metric["config"]["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            flags[metric["config"]["column"]] = failed[metric["id"]]
            scores[metric["config"]["column"]] = float(metric["value"])
        elif kind == "DriftedColumnsCount":
            share = float(metric["value"]["share"])
    return flags, scores, share


def child_driftflow(model: str = MODEL) -> dict[str, Any]:
    """driftflow's monitor flow on the window, in this process, reporting to the benchmark's Prefect server;
    its phases are the task runs' durations as the server recorded them."""
    started = time.perf_counter()
    # The libraries the run uses are imported before the clock starts, as the plain approach's are (a
    # long-lived worker has them already; the child's "process s" still counts them)
    import great_expectations  # noqa: F401
    from evidently import Report  # noqa: F401
    from evidently.presets import DataDriftPreset  # noqa: F401
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId

    from flows.monitor import monitor

    imported, cpu = time.perf_counter(), time.process_time()
    state = cast(Any, monitor(model=model, window_end=WINDOW_END, actions=False, return_state=True))
    done, cpu = time.perf_counter(), time.process_time() - cpu
    summary: dict[str, Any] = dict(state.result())
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(
            flow_run_id=TaskRunFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    phases = {r.name.rsplit("-", 1)[0]: r.total_run_time.total_seconds()
              for r in sorted(runs, key=lambda r: r.start_time or r.expected_start_time or 0)}
    phases = {name: seconds for name, seconds in phases.items() if seconds >= 0.05}
    report = summary.get("report")
    return {"rows": summary["row_count"], "labelled_rows": summary["labelled_rows"],
            "import_s": imported - started, "work_s": done - imported, "work_cpu_s": cpu, "phases": phases,
            "verdict": summary["verdict"], "reasons": summary["reasons"],
            "drifted": sorted(c["column"] for c in summary["drifted_columns"] if c["kind"] != "target"),
            "scores": {c["column"]: c["score"] for c in summary["drifted_columns"]},
            "html_mb": Path(report).stat().st_size / 2**20 if report and Path(report).exists() else None}


# ---------------------------------------------------------------- the parent: run, print, compare

def print_table(runs: dict[str, ChildRun]) -> None:
    """Seconds, CPU and peak RSS per approach, and the ratios on both wall and CPU seconds of the work."""
    plain, scipy_floor, floor = runs.get("plain"), runs.get("floor-scipy"), runs.get("floor")

    def ratio(a: ChildRun | None, b: ChildRun | None, key: str = "work_s") -> str:
        return f"{float(a.result[key]) / float(b.result[key]):.1f}x" if a and b else "–"

    print(f"\n{'approach':<22}{'process s':>10}{'work s':>9}{'process CPU s':>15}{'work CPU s':>12}"
          f"{'peak RSS MB':>13}{'plain/this':>16}{'this/floor-scipy':>18}{'this/floor':>12}")
    for name, run in runs.items():
        work, work_cpu = float(run.result["work_s"]), float(run.result["work_cpu_s"])
        print(f"{name:<22}{run.wall:>10.1f}{work:>9.1f}{run.cpu:>15.1f}{work_cpu:>12.1f}{run.peak_rss_mb:>13,.0f}"
              f"{ratio(plain, run) + ' / ' + ratio(plain, run, 'work_cpu_s'):>16}"
              f"{ratio(run, scipy_floor):>18}{ratio(run, floor):>12}")
    print("work: after imports; plain/this: how many times faster (wall / CPU seconds of the work); "
          "this/floor: wall seconds of the work")
    for name, run in runs.items():
        print(f"  {name} phases (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in run.result["phases"].items()))
    if scipy_floor and floor:
        ours, theirs = floor.result["scores"], scipy_floor.result["scores"]
        worst = max(abs(ours[c] - theirs[c]) / max(abs(theirs[c]), 1e-12) for c in theirs)
        print(f"  the two floors' {len(theirs)} scores: largest relative difference {worst:.1e}")


def compare(runs: dict[str, ChildRun]) -> None:
    """driftflow's drifted columns and verdict against the full-data Evidently run's flags and dataset drift."""
    if "plain" not in runs:
        return
    plain = runs["plain"].result
    evidently_drift = plain["dataset_drift_share"] is not None and plain["dataset_drift_share"] >= DATASET_SHARE
    evidently_verdict = "drift" if evidently_drift or not plain["validation_success"] else "ok"
    if not plain["validation_success"]:
        evidently_verdict = "data_invalid"
    print(f"\nEvidently (full data): drifted {plain['drifted']}, share {plain['dataset_drift_share']:.3f} "
          f"-> {evidently_verdict}; GX success {plain['validation_success']} ({plain['expectations']} results)")
    for name in ("driftflow", "driftflow-aggregates"):
        if name not in runs:
            continue
        ours = runs[name].result
        print(f"{name + ':':<22} drifted {ours['drifted']} -> {ours['verdict']}")
        same_columns = plain["drifted"] == ours["drifted"]
        same_verdict = evidently_verdict == ours["verdict"]
        print(f"  same drifted columns: {'yes' if same_columns else 'NO'}; "
              f"same verdict: {'yes' if same_verdict else 'NO'}")
        for column in ours["drifted"]:
            if column in plain["scores"] and ours["scores"].get(column) is not None:
                print(f"  {column}: Evidently {plain['scores'][column]:.6f}  {name} {ours['scores'][column]:.6f}")


def window_arguments(doc: str | None) -> argparse.ArgumentParser:
    """The command line every benchmark on this window shares: `--rows`, `--reference-rows`, `--url`."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="window rows (default 1,000,000)")
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--url", default=os.environ.get("DRIFTFLOW_BENCH_POSTGRES_URL", DEFAULT_URL))
    return parser


def on_the_window(script: str, doc: str | None, child: Callable[[str], dict[str, Any]],
                  approaches: Sequence[str]) -> dict[str, ChildRun] | None:
    """The command line of a benchmark on this window (`--rows`, `--reference-rows`, `--url`). As a child, run one
    approach and print its JSON (returns None); as the parent, prepare the window and run each approach twice in
    fresh processes, alternating, and return the second run of each (the first warms the server's cache)."""
    parser = window_arguments(doc)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)), flush=True)
        return None
    env = prepare(argparse.Namespace(**vars(args), fresh=False))
    print(f"load average before: {load_average()}", flush=True)
    first = {a: run_child([script, "--child", a], env) for a in approaches}
    return {a: run_child([script, "--child", a], env) for a in first}


def main() -> None:
    parser = window_arguments(__doc__)
    parser.add_argument("--only", default="floor-scipy,floor,driftflow,driftflow-aggregates,plain",
                        help="approaches to run, comma-separated")
    parser.add_argument("--fresh", action="store_true",
                        help="forget the store, reports and Prefect history (the table is kept) and register again")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--report-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        handlers = {"register": child_register, "floor": child_floor, "floor-scipy": child_floor_scipy,
                    "driftflow": child_driftflow, "driftflow-aggregates": lambda: child_driftflow(COUNTED),
                    "plain": lambda: child_plain(args.report_dir)}
        print(json.dumps(handlers[args.child]()), flush=True)
        return

    env = prepare(args)
    project = Path(env["DRIFTFLOW_PROJECT_DIR"])
    runs: dict[str, ChildRun] = {}
    wanted = [a.strip() for a in args.only.split(",") if a.strip()]
    print(f"load average before: {load_average()}", flush=True)
    with prefect_server(project / "prefect") as (api_url, _):
        for approach in wanted:
            extra = ["--report-dir", str(project / "home" / "plain-report")] if approach == "plain" else []
            runs[approach] = run_child([__file__, "--child", approach, *extra], {**env, "PREFECT_API_URL": api_url})
            print(f"{approach}: {runs[approach].wall:.1f} s, peak {runs[approach].peak_rss_mb:,.0f} MB "
                  f"(load average {load_average()})", flush=True)
    rows = next(iter(runs.values())).result["rows"] if runs else 0
    print(f"\nwindow {rows:,} rows x {len(COLUMNS)} columns, reference {args.reference_rows:,} rows, "
          f"{os.cpu_count()} cores")
    print_table(runs)
    compare(runs)
    for name, run in runs.items():
        if run.result.get("html_mb") is not None:
            print(f"{name} HTML report: {run.result['html_mb']:.1f} MB")


if __name__ == "__main__":
    main()
