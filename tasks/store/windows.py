"""Monitored windows in the store: written once per window (a rerun replaces them), read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tasks.db import as_utc, utc_naive
from tasks.metrics import HIGHER_IS_BETTER
from tasks.results import DriftSummary, PerformanceSummary, ValidationSummary, Verdict, Window
from tasks.store.schema import (
    WINDOW_TABLES,
    column_drift,
    monitor_runs,
    performance,
    validation_results,
    verdict_audit,
)

# What a rerun compares with the record it replaces; any difference is a new revision with an audit row.
AUDITED = ("status", "reasons", "reference_version", "row_count", "labelled_rows", "data_fingerprint",
           "labels_fingerprint", "scored_by")


@dataclass(frozen=True)
class WindowRecord:
    """Everything recorded for one monitored window."""

    model: str
    window: Window
    verdict: Verdict
    validation: ValidationSummary
    drift: DriftSummary | None
    row_count: int
    labelled_rows: int
    reference_version: str | None
    champion_version: int | None
    flow_run_id: str | None
    data_fingerprint: str | None = None
    labels_fingerprint: str | None = None
    cause: str | None = None  # why this window is rerun, when the caller knows better (`refill`)
    model_versions: dict[str, int] | None = None  # the versions that made the window's predictions: rows each
    scored_by: int | None = None  # the version that scored the window in a replay; None: the logged predictions


@dataclass(frozen=True)
class Recorded:
    """What recording did: the window's revision, and what changed against the record it replaced (field ->
    [old, new]; empty for a first record or an unchanged rerun)."""

    revision: int
    changes: dict[str, list[Any]]
    cause: str | None = None
    first: bool = False  # the window had no record before (a scheduled run, or a filled hole)


def record_window(engine: sa.Engine, record: WindowRecord) -> Recorded:
    """Write one window's records, replacing any earlier run of the same window. History never changes
    silently: a rerun whose verdict, reference or measured data differ is a new revision of the window, with a
    `verdict_audit` row saying what changed and why (`relabel`: only the labels did; `rerun`: anything else);
    an unchanged rerun keeps its revision."""
    key = {"model": record.model, "window_end": utc_naive(record.window.end)}
    with engine.begin() as conn:
        lock_window(conn, record.model, utc_naive(record.window.end))
        old = conn.execute(sa.select(monitor_runs).where(monitor_runs.c.model == key["model"],
                                                         monitor_runs.c.window_end == key["window_end"])
                           ).mappings().first()
        for table in (*WINDOW_TABLES, monitor_runs):
            conn.execute(sa.delete(table).where(table.c.model == key["model"],
                                                table.c.window_end == key["window_end"]))
        row = _run_row(record)
        done = _revision(dict(old) if old else None, row, record.cause)
        first = (old["first_recorded_at"] or old["recorded_at"]) if old else row["recorded_at"]
        conn.execute(sa.insert(monitor_runs).values(**key, **row, revision=done.revision, first_recorded_at=first))
        if done.changes and old is not None:
            conn.execute(sa.insert(verdict_audit).values(
                **key, changed_at=row["recorded_at"], cause=done.cause, old_status=old["status"],
                new_status=row["status"], old_reasons=old["reasons"], new_reasons=row["reasons"],
                old_reference_version=old["reference_version"], new_reference_version=row["reference_version"],
                changes=done.changes))
        if record.validation.outcomes:
            conn.execute(sa.insert(validation_results), [
                {**key, "expectation": o.expectation, "column_name": o.column, "severity": o.severity,
                 "success": o.success, "observed": o.observed, "unexpected_count": o.unexpected_count,
                 "position": o.position if o.position is not None else i, "action": o.effective_action,
                 "expected": o.expected}
                for i, o in enumerate(record.validation.outcomes)])
        if record.drift is not None:
            conn.execute(sa.insert(column_drift), [
                {**key, "column_name": c.column, "kind": c.kind, "method": c.method, "threshold": c.threshold,
                 "score": c.score, "drifted": c.drifted, "issue": c.issue or c.note, "p_value": c.p_value,
                 "threshold_source": c.threshold_source, "severity": c.severity} for c in record.drift.columns])
            perf = record.drift.performance
            conn.execute(sa.insert(performance).values(
                **key, metric=perf.metric, value=perf.value, reference_value=perf.reference_value,
                drop_vs_reference=perf.drop, labelled_rows=perf.labelled_rows, ci_low=perf.ci_low,
                ci_high=perf.ci_high, allowance=perf.allowance, allowance_source=perf.allowance_source,
                estimated_value=perf.estimated_value, estimated_method=perf.estimated_method))
    return done


def lock_window(conn: sa.Connection, model: str, window_end: datetime) -> None:
    """Two runs of one window record one after the other (an advisory lock per window on PostgreSQL; SQLite:
    the write lock, taken first): the second sees the first's record and replaces it, audited if it differs."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                     {"key": f"driftflow:window:{model}:{window_end.isoformat()}"})
    else:
        conn.execute(sa.update(monitor_runs).where(sa.false()).values(status="ok"))


def _revision(old: dict[str, Any] | None, new: dict[str, Any], cause: str | None) -> Recorded:
    """The new row's revision and what changed. A fingerprint the old record lacks (recorded before they were
    kept) is unknown, not changed."""
    if old is None:
        return Recorded(1, {}, first=True)
    changes = {field: [old[field], new[field]] for field in AUDITED
               if old[field] != new[field] and not (field.endswith("fingerprint") and old[field] is None)}
    if not changes:
        return Recorded(int(old["revision"] or 1), {})
    labels_only = "labels_fingerprint" in changes \
        and set(changes) <= {"labels_fingerprint", "labelled_rows", "status", "reasons"}
    return Recorded(int(old["revision"] or 1) + 1, changes, cause or ("relabel" if labels_only else "rerun"))


def _run_row(record: WindowRecord) -> dict[str, Any]:
    window = record.window
    return {
        "window_start": utc_naive(window.start),
        "labelled_start": utc_naive(window.labelled_start),
        "labelled_end": utc_naive(window.labelled_end),
        "status": record.verdict.status,
        "breach": record.verdict.breach,
        "reasons": record.verdict.reasons,
        "drifted_columns": record.verdict.drifted_columns,
        "row_count": record.row_count,
        "labelled_rows": record.labelled_rows,
        "drift_share": record.drift.drift_share if record.drift else None,
        "reference_version": record.reference_version,
        "champion_version": record.champion_version,
        "report_path": record.drift.report_path if record.drift else None,
        "flow_run_id": record.flow_run_id,
        "data_fingerprint": record.data_fingerprint,
        "labels_fingerprint": record.labels_fingerprint,
        "recorded_at": utc_naive(datetime.now(UTC)),
        "quarantined_rows": record.validation.quarantined_rows,
        "severe": record.verdict.severe,
        "model_versions": record.model_versions or None,
        "scored_by": record.scored_by,
        "measurements": None if record.drift is None else {
            "false_alarm_control": record.drift.false_alarm_control, "notes": record.drift.notes},
    }


@dataclass(frozen=True)
class WindowServing:
    """Who served a recorded window when it was first monitored: the registry's champion then, and the version
    that scored it in a replay (None: its predictions were read from the log). A rerun keeps both, so it
    computes what the first run computed, whatever the registry holds now."""

    champion: int | None
    scored_by: int | None


def served_then(engine: sa.Engine, model: str, window_end: datetime) -> WindowServing | None:
    """Who served a recorded window; None for a window not recorded yet."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(monitor_runs.c.champion_version, monitor_runs.c.scored_by).where(
            monitor_runs.c.model == model, monitor_runs.c.window_end == utc_naive(window_end))).first()
    return WindowServing(row.champion_version, row.scored_by) if row else None


def recorded_history(engine: sa.Engine, model: str, metric: str, window_ends: list[datetime]
                     ) -> tuple[list[bool | None], list[PerformanceSummary | None]]:
    """Breach flags and recorded performance (`metric`) of the given scheduled windows, in their order, in one
    query; None where a window has no usable record (never recorded, or it ended in an error), and a None
    performance where it was not scored with that metric."""
    if not window_ends:
        return [], []
    keys = [utc_naive(end) for end in window_ends]
    perf = performance.c
    query = sa.select(monitor_runs.c.window_end, monitor_runs.c.breach, monitor_runs.c.status, perf.value,
                      perf.reference_value, perf.labelled_rows, perf.ci_low, perf.ci_high, perf.allowance,
                      perf.allowance_source, perf.metric).outerjoin(performance, sa.and_(
        perf.model == monitor_runs.c.model, perf.window_end == monitor_runs.c.window_end, perf.metric == metric)
    ).where(monitor_runs.c.model == model, monitor_runs.c.window_end.in_(keys))
    with engine.connect() as conn:
        found = {row.window_end: row for row in conn.execute(query) if row.status != "error"}
    rows = [found.get(key) for key in keys]
    breaches = [None if row is None else bool(row.breach) for row in rows]
    performances = [None if row is None or row.metric is None else PerformanceSummary(
        metric, row.value, row.reference_value, row.labelled_rows, HIGHER_IS_BETTER[metric], ci_low=row.ci_low,
        ci_high=row.ci_high, allowance=row.allowance, allowance_source=row.allowance_source) for row in rows]
    return breaches, performances


def window_runs(engine: sa.Engine, model: str, start: datetime | None = None,
                end: datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Recorded windows of a model (newest first), with their drift columns and performance."""
    query = sa.select(monitor_runs).where(monitor_runs.c.model == model)
    if start is not None:
        query = query.where(monitor_runs.c.window_end > utc_naive(start))
    if end is not None:
        query = query.where(monitor_runs.c.window_end <= utc_naive(end))
    query = query.order_by(monitor_runs.c.window_end.desc()).limit(limit)
    with engine.connect() as conn:
        runs = [dict(row._mapping) for row in conn.execute(query)]
        for run in runs:
            where = (column_drift.c.model == model, column_drift.c.window_end == run["window_end"])
            run["columns"] = [dict(r._mapping) for r in conn.execute(
                sa.select(column_drift).where(*where).order_by(column_drift.c.column_name))]
            perf = conn.execute(sa.select(performance).where(
                performance.c.model == model, performance.c.window_end == run["window_end"])).first()
            run["performance"] = dict(perf._mapping) if perf else None
            for field in ("window_start", "window_end", "labelled_start", "labelled_end", "recorded_at"):
                run[field] = as_utc(run[field])
    return runs


def count_window_rows(engine: sa.Engine, model: str, window_end: datetime) -> dict[str, int]:
    """How many rows each table holds for one window (for checks that reruns never duplicate)."""
    counts = {}
    with engine.connect() as conn:
        for table in (monitor_runs, *WINDOW_TABLES):
            counts[table.name] = conn.execute(sa.select(sa.func.count()).select_from(table).where(
                table.c.model == model, table.c.window_end == utc_naive(window_end))).scalar_one()
    return counts


def audit_rows(engine: sa.Engine, model: str, after_id: int = 0) -> list[dict[str, Any]]:
    """The model's audited verdict changes (oldest first), those with an id above `after_id`."""
    query = sa.select(verdict_audit).where(verdict_audit.c.model == model, verdict_audit.c.id > after_id) \
        .order_by(verdict_audit.c.id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["window_end"], row["changed_at"] = as_utc(row["window_end"]), as_utc(row["changed_at"])
    return rows


def recorded_ends(engine: sa.Engine, model: str, window_ends: list[datetime]) -> list[datetime]:
    """Those of `window_ends` the model has a record of, oldest first (UTC)."""
    keys = [utc_naive(end) for end in window_ends]
    with engine.connect() as conn:
        found = conn.execute(sa.select(monitor_runs.c.window_end).where(
            monitor_runs.c.model == model, monitor_runs.c.window_end.in_(keys))).scalars().all()
    return sorted(as_utc(end) for end in found)


def last_audit_id(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(verdict_audit.c.id), 0))).scalar_one())
