"""The monitor flow: one monitored model, one window, from warehouse rows to a recorded verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed
from sqlalchemy import Engine

from tasks.config import ModelConfig, load_model_config
from tasks.errors import ConfigError, DriftflowError
from tasks.monitor.decide import decide_verdict
from tasks.monitor.drift import measure_drift
from tasks.monitor.extract import extract_window
from tasks.monitor.fingerprint import counted_fingerprint, data_fingerprint, labels_fingerprint
from tasks.monitor.profile import ReferenceProfile
from tasks.monitor.record import read_history, record_window
from tasks.monitor.report import publish_report, window_summary
from tasks.monitor.rescore import Rescored, rescore_window
from tasks.monitor.served import Served, missing_column, served_by, superseded, version_notes
from tasks.monitor.tidy import tidy_window, unmeasurable
from tasks.monitor.validate import validate_window
from tasks.monitor.validate_warehouse import validate_in_warehouse
from tasks.monitor.window_report import store_window_report
from tasks.ops.announce import announce_window
from tasks.registry.references import load_reference
from tasks.registry.versions import champion
from tasks.results import DriftSummary, Reference, Unmeasurable, ValidationSummary, Window, WindowData
from tasks.retrain.outbox import sweep_outbox
from tasks.retrain.trigger import request_retraining
from tasks.retrain.watch import watch_champion
from tasks.retries import STORE_OUTAGE, WAREHOUSE_OUTAGE
from tasks.schedule import latest_window_end, next_tick, resolve_window
from tasks.source.pushdown import WindowAggregates, sample_window, window_aggregates
from tasks.store.engine import open_store
from tasks.store.windows import WindowRecord, recorded_ends, served_then

STATE_NAMES = {"ok": "OK", "warn": "Warn", "drift": "Drift", "data_invalid": "DataInvalid",
               "insufficient_data": "InsufficientData"}


def run_name() -> str:
    """'flights-delay 2013-02-04T06:00' — the model and the window end, readable in the UI."""
    params = runtime.flow_run.parameters
    end = params.get("window_end") or runtime.flow_run.scheduled_start_time
    stamp = end.strftime("%Y-%m-%dT%H:%M") if isinstance(end, datetime) else str(end)[:16]
    return f"{params.get('model')} {stamp}"


@task(name="load-config", cache_policy=NO_CACHE)
def load_config(model: str) -> ModelConfig:
    """The model's typed configuration (fails fast with the file and field)."""
    return load_model_config(model)


def scheduled_window_end(config: ModelConfig) -> datetime:
    """A run without an explicit window measures the window its schedule tick closes."""
    return latest_window_end(config, runtime.flow_run.scheduled_start_time)


def served_versions(config: ModelConfig, extracted: WindowData | Unmeasurable, scored_by: int | None
                    ) -> tuple[Served, Served]:
    """The model versions that made the window's predictions and the labelled rows': the one that scored a
    replayed window, else as the `source.model_version` column says (empty without one)."""
    if isinstance(extracted, Unmeasurable):
        return Served(), Served()
    if scored_by is not None:
        return (Served({str(scored_by): len(extracted.current)} if len(extracted.current) else {}),
                Served({str(scored_by): len(extracted.labelled)} if len(extracted.labelled) else {}))
    return served_by(config, extracted.current), served_by(config, extracted.labelled)


def fingerprints(config: ModelConfig, extracted: WindowData | Unmeasurable) -> tuple[str | None, str | None]:
    """What a rerun compares: the window's rows and its matured labels, as read (none for unreadable rows)."""
    if isinstance(extracted, Unmeasurable):
        return None, None
    return data_fingerprint(config, extracted.current), labels_fingerprint(config, extracted.labelled)


def read_and_score(store: Engine, config: ModelConfig, window: Window, scorer: int | None
                   ) -> tuple[WindowData | Unmeasurable, tuple[str | None, str | None], int | None, str | None]:
    """The window as measured, the fingerprints of its rows as logged, the version that scored it (None: the
    log's predictions) and the note saying so."""
    if scorer is not None and config.source.pull == "aggregates":
        raise ConfigError(f"{config.name}: a replay scores the window's rows with the champion; with source.pull: "
                          "aggregates the features stay in the warehouse (replay with source.pull: rows)")
    extracted = extract_window(config, window, features=scorer is not None)
    measured = fingerprints(config, extracted)
    if scorer is None or isinstance(extracted, Unmeasurable):
        return extracted, measured, scorer, None
    rescored = score_with(store, config, extracted, scorer)
    return rescored.data, measured, rescored.version, rescored.note


@task(name="count-window", cache_policy=NO_CACHE, **WAREHOUSE_OUTAGE)
def count_window(config: ModelConfig, window: Window, reference: Reference) -> WindowAggregates:
    """What the drift scores need of the window's features, counted inside the warehouse (`source.pull:
    aggregates`; see `tasks/source/pushdown.py`)."""
    profile = reference.profile
    if not isinstance(profile, ReferenceProfile):
        raise ConfigError(f"{config.name}: reference {reference.version} has no profile to count the window against")
    cols = config.columns
    features = [c for c in [*cols.drift_numeric, *cols.drift_categorical] if c in profile.columns]
    return window_aggregates(config, window.start, window.end, profile, features)


@task(name="score-with-champion", cache_policy=NO_CACHE)
def score_with(store: Engine, config: ModelConfig, extracted: WindowData, version: int) -> Rescored:
    """A replayed window's predictions made by the champion of its time (see `tasks/monitor/rescore.py`)."""
    return rescore_window(store, config, extracted, version)


def worth_measuring(config: ModelConfig, data: WindowData, validation: ValidationSummary) -> bool:
    """Drift is measured only on enough rows of data the validation did not block."""
    blocked = not validation.success
    return len(data.current) >= config.policy.min_rows and not blocked


@flow(name="monitor", flow_run_name=run_name, log_prints=True)
def monitor(model: str, window_end: datetime | None = None, actions: bool = True,
            full_report: bool = False, cause: str | None = None, replay: bool = False) -> Any:
    """Measure one window of a monitored model and record an explained verdict. A window recorded for the first
    time behind later ones (a filled hole) has the later windows whose persistence counts it decided again.

    `replay`: the window's predictions are made by the champion now (a replay's champion of the window's
    time), not read from the log. A rerun of a recorded window keeps who served it then (the champion, and the
    version a replay scored it with), so it computes what the first run computed."""
    config = load_config(model)
    window = resolve_window(config, window_end or scheduled_window_end(config))
    store = open_store()
    if actions:
        redeliver(store, model)
    current_champion = champion(store, model)
    now = current_champion["version"] if current_champion else None
    first_run = None if replay else served_then(store, model, window.end)  # a rerun: as it was served then
    serving, scorer = (first_run.champion, first_run.scored_by) if first_run else (now, now if replay else None)
    extracted, measured, scorer, scoring_note = read_and_score(store, config, window, scorer)
    served, labels_served = served_versions(config, extracted, scorer)
    reference = load_reference(store, config, at=window.end, model_version=served.number)
    baseline = reference
    if labels_served.number is not None and labels_served.number != served.number:
        baseline = load_reference(store, config, at=window.end, model_version=labels_served.number)
    counted: WindowAggregates | None = None
    if isinstance(extracted, Unmeasurable):  # rows that cannot be read as data: data_invalid, with the reason
        data = WindowData(window, pd.DataFrame(), pd.DataFrame())
        validation = unmeasurable(ValidationSummary(config.validation.suite, []), extracted.problem)
    elif config.source.pull == "aggregates":  # the features stay in the warehouse: counted and validated there
        data, findings = tidy_window(config, extracted, reference)
        counted = count_window(config, window, reference)
        measured = (counted_fingerprint(measured[0], counted), measured[1])
        inside = validate_in_warehouse(config, window)
        validation = replace(inside, outcomes=[*findings, *inside.outcomes])
    else:
        data, findings = tidy_window(config, extracted, reference)
        validated = validate_window(config, data.current, window.end)
        validation = replace(validated.summary, outcomes=[*findings, *validated.summary.outcomes])
        data = replace(data, current=validated.kept)
    drift = None
    if worth_measuring(config, data, validation):
        measured_drift = measure_drift(config, data, reference, baseline, counted)
        if isinstance(measured_drift, Unmeasurable):
            validation = unmeasurable(validation, measured_drift.problem)
        else:
            said = [scoring_note] if scoring_note else []  # a scored window: the note says who made them
            if scorer is None:
                said += [*missing_column(config, data.current),
                         *version_notes(served, reference.model_version, serving, "predictions"),
                         *version_notes(labels_served, baseline.model_version, serving, "labelled predictions")]
            noted = [*said, *measured_drift.notes]
            measured_drift = replace(measured_drift, notes=noted)
            drift = replace(measured_drift, report_path=report(config, data, reference, measured_drift,
                                                               full_report))
    history = read_history(store, config, window.end)
    verdict = decide_verdict(config=config, row_count=len(data.current), validation=validation, drift=drift,
                             history=history.breaches, recent=history.performance)
    recorded = record_window(store, WindowRecord(
        model=model, window=window, verdict=verdict, validation=validation, drift=drift,
        row_count=len(data.current), labelled_rows=len(data.labelled), reference_version=reference.version,
        champion_version=serving,
        flow_run_id=str(runtime.flow_run.id) if runtime.flow_run.id else None,
        data_fingerprint=measured[0], labels_fingerprint=measured[1], cause=cause,
        model_versions=served.counts, scored_by=scorer))
    if recorded.changes:
        get_run_logger().warning("%s %s: revision %s (%s) changed %s", model, window.end.isoformat(),
                                 recorded.revision, recorded.cause, ", ".join(recorded.changes))
    if recorded.first:
        redecide_later(store, config, window.end, actions)
    if actions:
        watch(store, config, window.end)
    retrain_request = None
    if verdict.status == "drift" and actions:
        retrain_request = request_retraining(store, config, window, verdict, refusal=superseded(
            served, now))
    summary = window_summary(config, window, verdict, drift, len(data.current), len(data.labelled),
                             reference.version, retrain_request, validation.quarantined_rows, recorded.revision)
    publish_report(config, summary, drift)
    announce_window(summary)
    return Completed(name=STATE_NAMES[verdict.status], message="; ".join(verdict.reasons)[:500], data=summary)


def redecide_later(store: Engine, config: ModelConfig, window_end: datetime, actions: bool) -> None:
    """The recorded windows whose persistence rule counts this one (the next `of_last - 1` ticks) are run again,
    oldest first; a verdict that changes is audited with the cause `refill`."""
    later = [window_end]
    for _ in range(config.policy.persistence.of_last - 1):
        later.append(next_tick(config, later[-1]))
    for end in recorded_ends(store, config.name, later[1:]):
        monitor(model=config.name, window_end=end, actions=actions, cause="refill")


@task(name="watch-champion", cache_policy=NO_CACHE, **STORE_OUTAGE)
def watch(store: Engine, config: ModelConfig, window_end: datetime) -> None:
    """A newly promoted champion is judged on its first windows in service against the one it replaced, and
    rolled back (a recorded, evented decision) if it serves worse."""
    outcome = watch_champion(store, config, window_end)
    if outcome is not None:
        get_run_logger().info("%s v%s: %s", config.name, outcome.version, outcome.decision.reason)


@task(name="sweep-outbox", cache_policy=NO_CACHE)
def redeliver(store: Engine, model: str) -> None:
    """Redeliver this model's undelivered retrain requests and settle finished ones (the outbox). A sweep that
    fails is logged and retried by the next run: it never stops this window from being measured."""
    try:
        swept = sweep_outbox(store, model)
    except DriftflowError as exc:
        get_run_logger().warning("retrain requests of %s could not be swept: %s", model, exc)
        return
    if any(swept.values()):
        get_run_logger().info("retrain requests of %s swept: %s", model, swept)


def window_stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M")


def report(config: ModelConfig, data: WindowData, reference: Reference, drift: DriftSummary,
           full_report: bool) -> str | None:
    """The window's HTML report (a sample unless `full_report`); a report that fails to render is logged,
    never the reason a measured window goes unrecorded."""
    key = f"reports/{config.name}/{window_stamp(data.window.end)}/drift.html"
    try:
        window_rows = None
        if config.source.pull == "aggregates":  # the features are drawn for the report only: a sample of them
            rows = len(data.current) if full_report else config.drift.report_rows
            window_rows, data = len(data.current), replace(data, current=sample_window(
                config, data.window.start, data.window.end, rows))
        return store_window_report(config, data, reference, drift, key,
                                   max_rows=None if full_report else config.drift.report_rows,
                                   max_columns=None if full_report else config.drift.report_columns,
                                   window_rows=window_rows)
    except Exception as exc:
        get_run_logger().warning("the HTML report of %s could not be rendered: %s", config.name, exc)
        return None
