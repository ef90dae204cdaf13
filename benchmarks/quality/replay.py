"""The closed loop on real data: each dataset's history replayed with actions, its retrains run in process.

Set up as a new user would (`scenario.set_up`), then the serving model is registered as the champion from its
model file (`driftflow register --file`, reference: the dataset's reference period), so every version the loop
makes can be scored on the same rows; the YAML keeps the default reference, the champion's, which each
promotion re-baselines.
`flows.replay.replay_history` monitors every window and runs each accepted retrain (the built-in trainer the
scenario's YAML names) before the next window, as `driftflow backfill --actions` does. The log keeps what the
first serving model predicted throughout, as a user's history would; the replay scores each window with the
champion of its time.

Each promotion is judged where it counts: the promoted and the replaced model, scored on the same labelled
rows of the windows the promoted one served. A late label is shown on one window: its labels are blank when
it is monitored, arrive after the replay, and `flows.relabel.relabel` measures them (audited as `relabel`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from benchmarks.quality import driftflow_environment
from benchmarks.quality.datasets import TIMESTAMP, Dataset
from benchmarks.quality.evaluation import LOWER_IS_BETTER
from benchmarks.quality.scenario import Scenario, in_period, set_up

LATE_WINDOW = 2  # the window whose labels arrive late: the third monitored one
IN_PROGRESS = re.compile(r"in progress \(requested for the window ending (\d{4}-\d\d-\d\d \d\d:\d\d)\)")


@dataclass(frozen=True)
class Promotion:
    """A promoted version against the one it replaced, on the labelled rows of the windows it served."""

    version: int
    replaced: int
    promoted_at: datetime  # the window whose retrain promoted it
    windows: int
    rows: int
    new: float | None
    old: float | None
    lower_is_better: bool

    @property
    def paid(self) -> bool | None:
        if self.new is None or self.old is None:
            return None
        return self.new < self.old if self.lower_is_better else self.new > self.old


@dataclass(frozen=True)
class ReplayResult:
    """One dataset's closed-loop replay."""

    name: str
    windows: int
    metric: str
    seconds: float
    requests: dict[str, int]  # by final status
    in_progress: list[str] = field(default_factory=list)  # refusals for an open retrain of an earlier window
    promotions: list[Promotion] = field(default_factory=list)
    rollbacks: int = 0
    late_label: dict[str, Any] | None = None  # the audit row of the window whose labels came late


def replay_dataset(dataset: Dataset, home: Path, *, late_label: bool = False,
                   progress: Callable[[dict[str, Any]], None] = lambda _window: None) -> ReplayResult:
    """Set the dataset up under `home`, register its serving model, replay its history with the loop closed."""
    from flows.replay import replay_history
    from tasks.config import load_model_config
    from tasks.schedule import resolve_window, window_ends
    from tasks.store.engine import open_store

    started = time.perf_counter()
    home.mkdir(parents=True, exist_ok=True)
    with driftflow_environment(home) as url:
        scenario = set_up(dataset, home / "project", url, registered=True)
        config = load_model_config(dataset.name, scenario.config_dir)
        register_serving_model(scenario, home / "serving-model.joblib")
        ends = window_ends(config, *dataset.monitor)
        log = scenario.log.copy()
        late = resolve_window(config, ends[LATE_WINDOW]) if late_label else None
        if late is not None:  # the window's labels have not arrived when it is monitored
            log.loc[in_period(log, (late.start, late.end)).index, dataset.target] = np.nan
            replace_rows(url, scenario, log, late.start, late.end)
        replay_history(dataset.name, ends, progress)
        audit = None
        if late is not None:  # they arrive: the window is rewritten with them
            arrived = in_period(scenario.log, (late.start, late.end))[dataset.target]
            log.loc[arrived.index, dataset.target] = arrived
            replace_rows(url, scenario, log, late.start, late.end)
            audit = relabel_window(dataset.name, late.end, ends[-1])
        store = open_store()
        return ReplayResult(
            name=dataset.name, windows=len(ends), metric=dataset.metric,
            seconds=time.perf_counter() - started, requests=request_counts(store, dataset.name),
            in_progress=in_progress_refusals(store, dataset.name),
            promotions=judge_promotions(store, scenario, config), rollbacks=event_count(store, dataset.name,
                                                                                         "rolled_back"),
            late_label=audit)


def register_serving_model(scenario: Scenario, path: Path) -> None:
    """`driftflow register --file`: the serving model as champion, its reference the dataset's reference period,
    its baseline measured on rows it did not train on."""
    import joblib

    from tasks.config import load_model_config
    from tasks.registry.register import register_model
    from tasks.store.engine import open_store

    joblib.dump(scenario.serving_model, path)
    dataset = scenario.dataset
    register_model(open_store(), load_model_config(dataset.name, scenario.config_dir),
                   reference_start=dataset.reference[0], reference_end=dataset.reference[1], file=path,
                   trained_to=dataset.train[1])


def naive(moment: datetime) -> datetime:
    """An aware moment as the log's naive UTC timestamps hold it."""
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None).to_pydatetime()


def replace_rows(url: str, scenario: Scenario, log: pd.DataFrame, start: datetime, end: datetime | None) -> None:
    """Rewrite the warehouse's rows of [start, end) (to the last row when `end` is None) from `log`."""
    params = {"start": naive(start)} | ({} if end is None else {"end": naive(end)})
    rows = log[(log[TIMESTAMP] >= params["start"]) & (log[TIMESTAMP] < params.get("end", pd.Timestamp.max))]
    clause = f"{TIMESTAMP} >= :start" + ("" if end is None else f" AND {TIMESTAMP} < :end")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {scenario.table} WHERE {clause}").bindparams(
                *(sa.bindparam(name, type_=sa.DateTime()) for name in params)), params)
            rows.to_sql(scenario.table, conn, if_exists="append", index=False, chunksize=20_000)
    finally:
        engine.dispose()


def relabel_window(model: str, window_end: datetime, last: datetime) -> dict[str, Any] | None:
    """Run the relabel flow over the whole history; the audit row it wrote for the window ending `window_end`."""
    from flows.relabel import relabel
    from tasks.store.engine import open_store
    from tasks.store.windows import audit_rows, last_audit_id

    store = open_store()
    before = last_audit_id(store)
    relabel(model=model, lookback=f"{(last - window_end).days + 1}d", actions=False, now=last)
    rows = [r for r in audit_rows(store, model, before) if r["window_end"] == window_end]
    return rows[-1] if rows else None


def request_counts(store: sa.Engine, model: str) -> dict[str, int]:
    from tasks.store.schema import retrain_requests as t

    with store.connect() as conn:
        rows = conn.execute(sa.select(t.c.status, sa.func.count()).where(t.c.model == model).group_by(t.c.status))
        return {str(status): int(n) for status, n in sorted(rows)}


def in_progress_refusals(store: sa.Engine, model: str) -> list[str]:
    """Refusals because a retrain of an earlier window was still open: what a replay must never show."""
    from tasks.store.schema import retrain_requests as t

    with store.connect() as conn:
        rows = conn.execute(sa.select(t.c.window_end, t.c.reason).where(
            t.c.model == model, t.c.status == "refused").order_by(t.c.window_end)).all()
    found = []
    for end, reason in rows:
        match = IN_PROGRESS.search(reason)
        if match and match.group(1) < f"{end:%Y-%m-%d %H:%M}":
            found.append(f"{end:%Y-%m-%d}: {reason}")
    return found


def event_count(store: sa.Engine, model: str, event: str) -> int:
    from tasks.store.schema import model_events as t

    with store.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(t.c.model == model, t.c.event == event))
                   .scalar_one())


def judge_promotions(store: sa.Engine, scenario: Scenario, config: Any) -> list[Promotion]:
    """Each promotion: the promoted and the replaced model on the labelled rows of the windows it served."""
    from tasks.store.schema import model_events, monitor_runs

    dataset = scenario.dataset
    with store.connect() as conn:
        promoted = conn.execute(sa.select(model_events.c.version, model_events.c.previous_version,
                                          model_events.c.window_end).where(
            model_events.c.model == dataset.name, model_events.c.event == "promoted")
            .order_by(model_events.c.window_end)).all()
        served = conn.execute(sa.select(monitor_runs.c.window_start, monitor_runs.c.window_end,
                                        monitor_runs.c.champion_version).where(
            monitor_runs.c.model == dataset.name).order_by(monitor_runs.c.window_end)).all()
    judged = []
    for version, replaced, at in promoted:
        periods = [(s, e) for s, e, v in served if v == version and e > at]
        rows = pd.concat([in_period(scenario.log, (pd.Timestamp(s, tz="UTC"), pd.Timestamp(e, tz="UTC")))
                          for s, e in periods] or [scenario.log.iloc[:0]])
        rows = rows[rows[dataset.target].notna()]
        new, old = (_score(store, config, v, rows) for v in (version, replaced))
        judged.append(Promotion(version, replaced, at, len(periods), len(rows), new, old,
                                dataset.metric in LOWER_IS_BETTER))
    return judged


def _score(store: sa.Engine, config: Any, version: int, rows: pd.DataFrame) -> float | None:
    """A registered version's metric on the rows, from its model file."""
    from tasks.metrics import score
    from tasks.registry.model_files import load_estimator
    from tasks.registry.versions import version_row
    from tasks.retrain.trainers import predict

    row = version_row(store, config.name, version)
    if row is None or rows.empty:
        return None
    return score(config.performance.metric, rows[config.columns.target.column],
                 predict(load_estimator(row), rows, config))


def paid_of(promotions: list[Promotion]) -> str:
    """'4 of 5 (2 more served no labelled window)': a promotion at the last window is not judged."""
    measured = [p for p in promotions if p.paid is not None]
    unmeasured = len(promotions) - len(measured)
    return f"{sum(p.paid is True for p in measured)} of {len(measured)}" + (
        f" ({unmeasured} more served no labelled window)" if unmeasured else "")


def replay_tables(results: list[ReplayResult]) -> str:
    """The replay's two markdown tables: per dataset, then per promotion."""
    def fmt(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    lines = ["| dataset | windows | time | requests (by outcome) | refused: retrain of an earlier window in "
             "progress | promotions | rollbacks | promotions that paid |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        outcomes = ", ".join(f"{status} {n}" for status, n in r.requests.items()) or "none"
        lines.append(f"| {r.name} | {r.windows} | {r.seconds:.0f} s | {outcomes} | {len(r.in_progress)} | "
                     f"{len(r.promotions)} | {r.rollbacks} | {paid_of(r.promotions)} |")
    lines += ["", "| dataset | promoted | replaced | after the window ending | labelled windows served | rows | "
              "promoted's metric | replaced's metric | paid |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for p in r.promotions:
            verdict = {True: "yes", False: "no", None: "not measured"}[p.paid]
            lines.append(f"| {r.name} | v{p.version} | v{p.replaced} | {p.promoted_at:%Y-%m-%d} | {p.windows} | "
                         f"{p.rows} | {r.metric} {fmt(p.new)} | {r.metric} {fmt(p.old)} | {verdict} |")
    lines += ["", f"Promotions that paid: {paid_of([p for r in results for p in r.promotions])}."]
    for r in results:
        lines += [f"- {r.name}: refused for a retrain of an earlier window in progress: {line}"
                  for line in r.in_progress]
        if r.late_label is not None:
            a = r.late_label
            lines.append(f"- {r.name}, late labels: window ending {a['window_end']:%Y-%m-%d} audited as "
                         f"`{a['cause']}`: {a['old_status']} → {a['new_status']}, changed: "
                         f"{', '.join(sorted(a['changes']))}")
    return "\n".join(lines)
