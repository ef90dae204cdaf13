"""Soak: 1,000 monitor runs in one long-lived process against a Prefect server on PostgreSQL.

    uv run python benchmarks/soak.py                  # 1,000 runs, 2 models, daily 2,000-row windows
    uv run python benchmarks/soak.py --runs 40        # a quick try
    uv run python benchmarks/soak.py --markdown soak.md   # the figures' tables also to a file

Everything is in PostgreSQL (`--url`, else DRIFTFLOW_BENCH_POSTGRES_URL, else the local server). Each soak
starts clean: the monitoring store `driftflow_bench_soak_store` and the Prefect server's database
`driftflow_bench_soak_prefect` are dropped and created again, and `.driftflow/bench/soak-<rows>/home` (the
artifacts) is removed. The warehouse table `bench_soak_<rows>_<days>` (in `driftflow_bench`) is built once and
reused: a 4-week reference, then one day of `--rows` rows per window, the 26 columns of
benchmarks/monitor_window.py. `--models` models monitor 5 numeric and 2 categorical features and the prediction
of it (daily schedule, 1d windows, labels a day late, feature drift breaches, 2 of 3 windows decide; the suite of
monitor_window.py on those columns) and are registered through the public `register_model` (`--logged`).

Then the real `flows.monitor.monitor` runs `--runs` times in this one process, each a Prefect flow run tagged as
the deployments tag theirs, round-robin over the models, each run the model's next day. Every `--rerun-every`-th
run reruns an earlier window instead (its record must stay one). Four days are bad on purpose (no rows, a
duplicated id, predictions above 1, too few rows) and a stretch of days is shifted: each must end in a verdict.

Every `--sample-every` runs it prints runs, failures, RSS (now and peak, /proc/self/status), live Python objects,
the store's, the Prefect database's and the artifacts' size, Prefect's row counts and runs/min. Every
`--prune-every` runs it runs `driftflow prune --older-than <keep>d` (reports by window time, as in production).
That command ages Prefect flow runs by wall-clock end time, and the soak compresses a day into seconds, so it
then deletes the flow runs of windows outside the same horizon with the product's own code
(`finished_flow_runs`, `apply_plan`): those that ended before the last run of a day outside it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_support import (
    DEFAULT_URL,
    QUIET,
    copy_frames,
    drop_database,
    ensure_database,
    libpq,
    load_average,
    prefect_server,
    table_rows,
)
from monitor_window import CATEGORICAL, COLUMNS, NUMERIC, START, frame_chunk, suite

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DAYS = 28
FIRST_END = START + timedelta(days=REFERENCE_DAYS + 1)  # window 0 is the day after the reference
BAD = {0.15: "no rows", 0.35: "duplicated id", 0.55: "prediction above 1", 0.75: "too few rows"}
SHIFTED_DAYS = (0.85, 0.90)  # share of the windows: features shifted (drift)
# Evidently's report costs ~0.25 CPU s per column whatever the rows: one numeric feature of each of the five
# shapes and two categorical ones (and the prediction) keep a run near 4 s on two cores
MONITORED_NUMERIC, MONITORED_CATEGORICAL = NUMERIC[:5], CATEGORICAL[:2]
STORE_DB, PREFECT_DB = "driftflow_bench_soak_store", "driftflow_bench_soak_prefect"
PREFECT_TABLES = ("flow_run", "task_run", "log", "artifact", "events")
EVENT_TABLES = ("events", "event_resources")  # Prefect expires them itself, by wall time (7 days)


def model_name(i: int) -> str:
    return f"soak-m{i}"


def bad_windows(windows: int) -> dict[int, str]:
    return {int(share * windows): kind for share, kind in BAD.items()}


def day_frame(day: int, rows: int, windows: int) -> Any:
    """Day `day` of the table (0: the reference's first): `rows` rows, or a bad day, or a shifted one."""
    kind = bad_windows(windows).get(day - REFERENCE_DAYS, "")
    shifted = int(SHIFTED_DAYS[0] * windows) <= day - REFERENCE_DAYS < int(SHIFTED_DAYS[1] * windows)
    count = {"no rows": 0, "too few rows": rows // 20}.get(kind, rows)
    frame = frame_chunk(count, day, 1 + day * rows, START + timedelta(days=day), 86400, shifted)
    if kind == "duplicated id":
        frame.loc[1, "id"] = frame.loc[0, "id"]
    elif kind == "prediction above 1":
        frame.loc[:9, "prediction"] = 1.5
    return frame


def model_yaml(name: str, table: str, rows: int) -> str:
    return f"""# Soak model: written by benchmarks/soak.py
name: {name}
task: classification
source: {{table: {table}, timestamp: ts, id: id}}
columns:
  numeric: [{", ".join(MONITORED_NUMERIC)}]
  categorical: [{", ".join(MONITORED_CATEGORICAL)}]
  prediction: prediction
  target: {{column: target, label_delay: 1d}}
schedule: {{cron: "0 0 * * *", timezone: UTC, window: 1d}}
reference: {{from: champion_training_window}}
validation: {{suite: {name}, on_failure: block}}
drift:
  numeric_method: wasserstein
  categorical_method: jensenshannon
  dataset_share: 0.2                # the two shifted features of seven are dataset drift
  severity: {{features: breach}}
performance: {{metric: roc_auc, max_drop: 0.05, min_labelled_rows: {rows // 4}}}
policy: {{persistence: {{breaches: 2, of_last: 3}}, min_rows: {rows // 4}}}
"""


def model_suite(name: str) -> dict[str, Any]:
    """benchmarks/monitor_window.py's suite, on the columns the model reads."""
    used = {"id", "ts", *MONITORED_NUMERIC, *MONITORED_CATEGORICAL, "prediction", "target"}
    full = suite(name)
    return {**full, "expectations": [e for e in full["expectations"] if e["kwargs"].get("column", "id") in used]}


@dataclass(frozen=True)
class Run:
    model: str
    window: int  # days after the reference
    rerun: bool

    @property
    def end(self) -> datetime:
        return FIRST_END + timedelta(days=self.window)


def plan(runs: int, models: int, rerun_every: int, windows: int) -> list[Run]:
    """Round-robin over the models, each run the model's next day; every `rerun_every`-th run an earlier window
    of that model instead (every third of those a bad window already run)."""
    bad, done, planned = sorted(bad_windows(windows)), [0] * models, []
    for i in range(1, runs + 1):
        m = (i - 1) % models
        if rerun_every and i % rerun_every == 0 and done[m]:
            k, ran_bad = i // rerun_every, [w for w in bad if w < done[m]]
            planned.append(Run(model_name(m), ran_bad[k % len(ran_bad)] if ran_bad and k % 3 == 0
                               else k * 7919 % done[m], True))
        else:
            planned.append(Run(model_name(m), done[m], False))
            done[m] += 1
    return planned


# ---------------------------------------------------------------- measuring

@dataclass(frozen=True)
class Sample:
    runs: int
    failures: int
    rss_mb: float
    peak_mb: float
    objects: int
    store: int
    prefect: int
    events: int  # of `prefect`: the event tables
    artifacts: int
    prefect_rows: dict[str, int]
    minutes: float

    def line(self, rate: float) -> str:
        rows = " ".join(f"{t}={n:,}" for t, n in self.prefect_rows.items())
        return (f"{self.runs:>5} runs, {self.failures} failed | RSS {self.rss_mb:,.0f} MB (peak {self.peak_mb:,.0f}), "
                f"{self.objects:,} objects | store {self.store / 1e6:.1f} MB, Prefect {self.prefect / 1e6:.1f} MB "
                f"(events {self.events / 1e6:.1f}), "
                f"artifacts {self.artifacts / 1e6:.1f} MB | Prefect rows {rows} | {rate:.1f} runs/min, "
                f"{self.minutes:.1f} min, load {load_average()}")


def proc_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, MB."""
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def sample(url: sa.URL, artifacts: Path, runs: int, failures: int, started: float) -> Sample:
    with psycopg.connect(libpq(url.set(database=PREFECT_DB))) as conn:
        def one(query: Any, *params: str) -> int:
            row = conn.execute(query, params).fetchone()
            return int(row[0]) if row else 0

        store, prefect = (one("SELECT pg_database_size(%s)", db) for db in (STORE_DB, PREFECT_DB))
        events = sum(one("SELECT pg_total_relation_size(%s)", t) for t in EVENT_TABLES)
        counts = {t: one(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))) for t in PREFECT_TABLES}
    size = sum(f.stat().st_size for f in artifacts.rglob("*") if f.is_file()) if artifacts.exists() else 0
    return Sample(runs, failures, proc_mb("VmRSS"), proc_mb("VmHWM"), len(gc.get_objects()), store, prefect, events,
                  size, counts, (time.perf_counter() - started) / 60)


def prune(url: sa.URL, keep: int, ended: dict[int, datetime], newest: int) -> dict[str, int]:
    """`driftflow prune --older-than <keep>d`, then the flow runs that ended before the last run of a window
    outside the horizon did (the same horizon in the soak's compressed wall time), then a plain VACUUM of both
    databases: what autovacuum does in time on a default server (deleted rows' space becomes reusable; files do
    not shrink), here at a fixed point, whatever the server's autovacuum setting."""
    from tasks.ops.prune import PruneItem, PrunePlan
    from tasks.ops.prune_inventory import apply_plan, finished_flow_runs

    done = subprocess.run([str(Path(sys.executable).with_name("driftflow")), "prune", "--older-than", f"{keep}d",
                           "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"driftflow prune exited with {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
    deleted = json.loads([x for x in done.stdout.splitlines() if x.startswith("{")][-1])["deleted"]
    outside = [at for window, at in ended.items() if window < newest - keep]
    if outside:
        runs = finished_flow_runs(max(outside) + timedelta(milliseconds=1))
        deleted["flow_run"] += apply_plan(PrunePlan([PruneItem("flow_run", None, str(r["id"]), 0, "outside")
                                                     for r in runs]))["flow_run"]
    for db in (STORE_DB, PREFECT_DB):
        with psycopg.connect(libpq(url.set(database=db)), autocommit=True) as conn:
            conn.execute("VACUUM")
    return {k: int(v) for k, v in deleted.items()}


def recorded(runs: list[Run]) -> dict[str, Any]:
    """What the store holds: one monitor_runs row per distinct window run, their statuses, the audit rows."""
    from tasks.store.engine import open_store
    from tasks.store.schema import monitor_runs, verdict_audit

    with open_store().connect() as conn:
        rows = conn.execute(sa.select(monitor_runs.c.model, monitor_runs.c.window_end, monitor_runs.c.status)).all()
        audit = conn.execute(sa.select(sa.func.count()).select_from(verdict_audit)).scalar_one()
    expected = {(r.model, r.end.replace(tzinfo=None)) for r in runs}
    found = [(str(r.model), r.window_end.replace(tzinfo=None)) for r in rows]
    return {"rows": len(found), "windows": len(expected), "match": sorted(found) == sorted(expected),
            "statuses": Counter(str(r.status) for r in rows), "audit": int(audit)}


# ---------------------------------------------------------------- the soak

def prepare(args: argparse.Namespace) -> tuple[sa.URL, Path, list[Run]]:
    url = sa.make_url(args.url)
    ensure_database(url)
    windows = -(-args.runs // args.models)
    table = f"bench_soak_{args.rows}_{windows}"
    days = REFERENCE_DAYS + windows
    if table_rows(url, table) != days * args.rows - args.rows - (args.rows - args.rows // 20):
        started = time.perf_counter()
        types = {c: "bigint" if c == "id" else "timestamp" if c == "ts" else "text" if c in CATEGORICAL
                 else "double precision" for c in COLUMNS}
        copy_frames(url, table, types, (day_frame(d, args.rows, windows) for d in range(days)))
        print(f"created {table}: {days} days in {time.perf_counter() - started:.0f} s", flush=True)
    for db in (STORE_DB, PREFECT_DB):
        drop_database(url.set(database=db))
        ensure_database(url.set(database=db))
    project = ROOT / ".driftflow" / "bench" / f"soak-{args.rows}"
    shutil.rmtree(project, ignore_errors=True)
    for i in range(args.models):
        for folder, name, text in (("deployments/models", f"{model_name(i)}.yaml", model_yaml(model_name(i), table,
                                                                                               args.rows)),
                                   ("expectations", f"{model_name(i)}.json", json.dumps(model_suite(model_name(i))))):
            (project / folder).mkdir(parents=True, exist_ok=True)
            (project / folder / name).write_text(text)
    os.environ.update(QUIET, DRIFTFLOW_PROJECT_DIR=str(project), DRIFTFLOW_HOME=str(project / "home"),
                      PREFECT_HOME=str(project / "client"),
                      DRIFTFLOW_WAREHOUSE_URL=url.render_as_string(hide_password=False),
                      DRIFTFLOW_STORE_URL=url.set(database=STORE_DB).render_as_string(hide_password=False))
    return url, project, plan(args.runs, args.models, args.rerun_every, windows)


def soak(args: argparse.Namespace, url: sa.URL, project: Path, runs: list[Run]) -> dict[str, Any]:
    prefect_url = url.set(drivername="postgresql+asyncpg", database=PREFECT_DB).render_as_string(hide_password=False)
    with prefect_server(project / "prefect", database_url=prefect_url) as (api_url, _):
        os.environ["PREFECT_API_URL"] = api_url
        from prefect import tags

        from flows.monitor import monitor
        from tasks.config import load_model_config
        from tasks.registry.register import register_model
        from tasks.store.engine import open_store

        for m in range(args.models):
            register_model(open_store(), load_model_config(model_name(m)), reference_start=START,
                           reference_end=START + timedelta(days=REFERENCE_DAYS), logged=True)
        artifacts = project / "home" / "artifacts"
        started, failures, verdicts = time.perf_counter(), [], Counter[str]()
        ended: dict[int, datetime] = {}
        samples = [sample(url, artifacts, 0, 0, started)]
        prunes: list[tuple[Sample, dict[str, int], Sample]] = []
        print(f"Prefect server at {api_url}; {len(runs)} runs planned; registered; {samples[0].line(0)}", flush=True)
        for i, run in enumerate(runs, 1):
            try:
                with tags("driftflow", f"model:{run.model}"):
                    state = monitor(model=run.model, window_end=run.end, return_state=True)
                verdicts[str(state.name)] += 1
                if not state.is_completed():
                    failures.append(f"{run.model} {run.end:%Y-%m-%d}: {state.name} {state.message}")
            except Exception as exc:  # counted and reported, the soak goes on
                failures.append(f"{run.model} {run.end:%Y-%m-%d}: {type(exc).__name__}: {exc}")
            if not run.rerun:
                ended[run.window] = datetime.now(UTC)
            if i % args.sample_every == 0 or i == len(runs):
                samples.append(sample(url, artifacts, i, len(failures), started))
                rate = args.sample_every / max(1e-9, samples[-1].minutes - samples[-2].minutes)
                print(samples[-1].line(rate), flush=True)
            if args.prune_every and i % args.prune_every == 0:
                before = samples[-1] if samples[-1].runs == i else sample(url, artifacts, i, len(failures), started)
                deleted = prune(url, args.keep, ended, max(ended))
                prunes.append((before, deleted, sample(url, artifacts, i, len(failures), started)))
                print(f"      prune --older-than {args.keep}d: deleted {deleted}", flush=True)
                print(prunes[-1][2].line(0), flush=True)
        store = recorded(runs)
    for failure in failures[:20]:
        print(f"FAILED {failure}")
    with psycopg.connect(libpq(url)) as conn:
        version, autovacuum = conn.execute(
            "SELECT current_setting('server_version'), current_setting('autovacuum')").fetchone() or ("?", "?")
    machine = (f"{os.cpu_count()} cores, load average at the end {load_average()}; PostgreSQL {version} on the same "
               f"host, autovacuum {autovacuum}")
    return {"samples": samples, "prunes": prunes, "failures": failures, "verdicts": verdicts, "store": store,
            "machine": machine}


def counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counter.items()))


def summary(args: argparse.Namespace, runs: list[Run], found: dict[str, Any]) -> str:
    """The figures as markdown: the headline table, storage per run around each prune, the samples."""
    samples, store, base, last = found["samples"], found["store"], found["samples"][0], found["samples"][-1]

    def at(n: int) -> Sample:
        return min(samples[1:], key=lambda s: abs(s.runs - n))

    def mb(s: Sample) -> str:
        return (f"{s.artifacts / 1e6:,.1f} | {s.store / 1e6:,.1f} | {s.prefect / 1e6:,.1f} | "
                f"{(s.prefect - s.events) / 1e6:,.1f}")

    def per_run(s: Sample) -> str:
        n = max(1, s.runs)
        return (f"{(s.artifacts - base.artifacts) / n / 1e3:,.0f} | {(s.store - base.store) / n / 1e3:,.1f} | "
                f"{(s.prefect - base.prefect) / n / 1e3:,.0f} | "
                f"{(s.prefect - s.events - base.prefect + base.events) / n / 1e3:,.0f}")

    marks = [at(100), at(len(runs) // 2), last]
    reruns = sum(r.rerun for r in runs)
    lines = [
        "| figure | value |", "|---|---|",
        f"| runs | {len(runs):,}: {len(runs) - reruns:,} new windows and {reruns} reruns; {args.models} models, "
        f"daily windows of {args.rows:,} rows; {last.minutes:.1f} min, {len(runs) / last.minutes:.1f} runs/min |",
        f"| machine | {found['machine']} |",
        f"| failures (flow runs not Completed, exceptions) | {len(found['failures'])} |",
        f"| verdicts (final states of the runs) | {counts(found['verdicts'])} |",
        f"| records in the store (`monitor_runs`) | {store['rows']:,} for {store['windows']:,} distinct windows, "
        f"{'one each' if store['match'] else 'NOT one each'} ({counts(store['statuses'])}); "
        f"{store['audit']} audit rows |",
        f"| RSS after run {' / '.join(f'{s.runs:,}' for s in marks)} | "
        f"{' / '.join(f'{s.rss_mb:,.0f}' for s in marks)} MB: "
        f"{(last.rss_mb - marks[0].rss_mb) / marks[0].rss_mb * 100:+.1f} % from run {marks[0].runs} |",
        f"| live Python objects after run {marks[0].runs:,} / {last.runs:,} | "
        f"{marks[0].objects:,} / {last.objects:,} |",
        f"| peak RSS | {last.peak_mb:,.0f} MB |",
        "", "Storage: MB in all, then kB per run (growth since the start divided by the runs so far); the Prefect "
        "database with and without its event tables (which Prefect expires itself after 7 days of wall time).", "",
        "| when | artifacts MB | store MB | Prefect DB MB | without events | artifacts kB/run | store kB/run "
        "| Prefect kB/run | without events |", "|---|---|---|---|---|---|---|---|---|",
        f"| start (registered) | {mb(base)} | – | – | – | – |"]
    for before, deleted, after in found["prunes"]:
        lines.append(f"| run {before.runs:,}, before prune | {mb(before)} | {per_run(before)} |")
        lines.append(f"| run {after.runs:,}, after prune ({deleted['report']} reports, {deleted['flow_run']} "
                     f"flow runs) | {mb(after)} | {per_run(after)} |")
    if not found["prunes"] or found["prunes"][-1][2].runs != last.runs:
        lines.append(f"| run {last.runs:,} | {mb(last)} | {per_run(last)} |")
    lines += ["", "| runs | RSS MB | peak MB | live objects | artifacts MB | store MB | Prefect DB MB | without events "
              "| Prefect flow runs / task runs / logs / artifacts / events | runs/min |", "|" + "---|" * 10]
    for before, now in pairwise(samples):
        rows = " / ".join(f"{n:,}" for n in now.prefect_rows.values())
        lines.append(f"| {now.runs:,} | {now.rss_mb:,.0f} | {now.peak_mb:,.0f} | {now.objects:,} | {mb(now)} | {rows} "
                     f"| {(now.runs - before.runs) / max(1e-9, now.minutes - before.minutes):.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--models", type=int, default=2)
    parser.add_argument("--rows", type=int, default=2000, help="rows per daily window")
    parser.add_argument("--rerun-every", type=int, default=25, help="every Nth run reruns an earlier window")
    parser.add_argument("--sample-every", type=int, default=50)
    parser.add_argument("--prune-every", type=int, default=250, help="0: never prune")
    parser.add_argument("--keep", type=int, default=90, help="days of window time `driftflow prune` keeps")
    parser.add_argument("--url", default=os.environ.get("DRIFTFLOW_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--markdown", type=Path, help="also write the summary table to this file")
    args = parser.parse_args()
    url, project, runs = prepare(args)
    table = summary(args, runs, soak(args, url, project, runs))
    print("\n" + table)
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
