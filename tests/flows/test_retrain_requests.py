"""Retrain requests through their unhappy paths, with the real store, registry, Prefect server and retrain flow:
a delivery that fails and is redelivered, a run that dies after promoting, a late failure hook, a failed
trainer's back-off, a severe override, and a replay with actions that decides the same twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from prefect.client.orchestration import get_client

from flows import retrain as retrain_module
from flows.monitor import monitor
from flows.replay import replay_history
from flows.retrain import retrain
from tasks.config import ModelConfig
from tasks.db import as_utc
from tasks.errors import TrainerError
from tasks.registry.events import events_of
from tasks.registry.references import load_reference
from tasks.registry.versions import champion, versions
from tasks.results import Verdict
from tasks.retrain.outbox import deliver_in_process, sweep_outbox
from tasks.retrain.requests import IllegalTransition, move
from tasks.retrain.trigger import fail_request, finish_request, request_retraining, requests_of
from tasks.schedule import resolve_window
from tasks.store.engine import open_store
from tasks.store.schema import model_events
from tasks.store.windows import window_runs
from tests.flows.conftest import log_week, week, window_end
from tests.support import seed_monitored

SEASON_SHIFT = {"temp": 40.0, "wind_speed": 15.0, "distance": 800.0}


def ask(config: ModelConfig, n: int, *, severe: bool = False, **kwargs: Any) -> dict[str, Any]:
    verdict = Verdict("drift", [f"roc_auc dropped in week {n}"], breach=True, severe=severe)
    return dict(request_retraining.fn(open_store(), config, resolve_window(config, window_end(n)), verdict,
                                      **kwargs))


def ask_in_process(config: ModelConfig, n: int, **kwargs: Any) -> dict[str, Any]:
    with deliver_in_process():
        return ask(config, n, **kwargs)


def run_retrain(config: ModelConfig, request: dict[str, Any]) -> Any:
    return retrain(model=config.name, window_end=window_end_of(request), reason=request["reason"],
                   request_key=request["idempotency_key"])


def window_end_of(request: dict[str, Any]) -> datetime:
    return request["window_end"].replace(tzinfo=UTC)


def unreachable(_row: dict[str, Any]) -> str:
    raise ConnectionError("Prefect API at http://127.0.0.1:4200/api unreachable")


def with_drifting_weeks(config: ModelConfig) -> ModelConfig:
    """Weeks 1-3 logged and drifting, so a retrain requested at week 2 has labelled data to train on."""
    for n in (1, 2, 3):
        log_week(config, week(n, seed=10 + n, shifts=SEASON_SHIFT))
    return config


@pytest.fixture()
def trained(monitored: ModelConfig, project: Any) -> ModelConfig:
    """Drifting weeks to train on; any scorable challenger wins the gate."""
    return with_drifting_weeks(project(retraining__promote_if={"min_gain": -1.0, "min_holdout_rows": 200}))


def test_a_delivery_error_keeps_the_request_and_the_sweep_redelivers_it(monitored: ModelConfig,
                                                                        project: Any) -> None:
    """Prefect unreachable: the request stays `requested` with the error and the next attempt; a rerun of the
    window tries again; once due, the sweep delivers it to a real deployment run, exactly once."""
    config = project()
    store = open_store()
    first = ask(config, 2, send=unreachable)
    assert (first["status"], first["attempts"], first["flow_run_id"]) == ("requested", 1, None)
    assert first["last_error"] == "ConnectionError: Prefect API at http://127.0.0.1:4200/api unreachable"
    assert first["next_attempt_at"] > datetime.now(UTC).replace(tzinfo=None)
    assert sweep_outbox(store, config.name, send=unreachable)["undelivered"] == 0  # not due yet
    again = ask(config, 2, send=unreachable)  # the window ran again: the same request, delivery retried
    assert (again["status"], again["attempts"]) == ("requested", 2)
    assert ask(config, 3, send=unreachable)["decision"].startswith("refused: a retraining is already in progress")

    later = datetime.now(UTC) + timedelta(hours=2)
    assert sweep_outbox(store, config.name, now=later) == {"delivered": 1, "undelivered": 0, "settled": 0}
    assert sweep_outbox(store, config.name, now=later) == {"delivered": 0, "undelivered": 0, "settled": 0}
    rows = requests_of(store, config.name)
    assert [(r["status"], r["attempts"]) for r in rows] == [("delivered", 3), ("refused", 0)]
    assert rows[0]["delivered_at"] is not None and rows[0]["next_attempt_at"] is None
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(rows[0]["flow_run_id"]))
    assert run.parameters["request_key"] == rows[0]["idempotency_key"]
    assert ask(config, 2)["flow_run_id"] == rows[0]["flow_run_id"]  # rerun after delivery: nothing new


def test_a_run_prefect_reports_ended_has_its_open_request_closed_by_the_sweep(monitored: ModelConfig,
                                                                             project: Any) -> None:
    """The runner that would have run the crash hook died with the run: the sweep reads the run's final state
    from Prefect and closes the request `failed`, saying how the run ended; a run still scheduled is left be."""
    from prefect.states import Crashed

    config = project()
    store = open_store()
    request = ask(config, 2)
    assert request["status"] == "delivered"
    assert sweep_outbox(store, config.name)["settled"] == 0  # scheduled, not ended
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(request["flow_run_id"]), Crashed(message="infrastructure lost"), force=True)
    assert sweep_outbox(store, config.name)["settled"] == 1
    row = requests_of(store, config.name)[0]
    assert (row["status"], row["decision"]) == ("failed", "the retrain run ended Crashed: infrastructure lost")
    assert sweep_outbox(store, config.name)["settled"] == 0


def test_each_state_is_entered_only_from_its_predecessor(trained: ModelConfig) -> None:
    """requested → delivered → running → promoted, each stamped; nothing moves a finished request again."""
    store = open_store()
    request = ask_in_process(trained, 2)
    assert request["status"] == "delivered" and request["flow_run_id"] is None
    key = request["idempotency_key"]
    with pytest.raises(IllegalTransition, match="can become promoted only from running"):
        finish_request(store, key, "promoted", "skipping the run")
    outcome = run_retrain(trained, request)
    assert outcome["outcome"] == "promoted"
    row = requests_of(store, trained.name)[0]
    assert row["status"] == "promoted" and row["challenger_version"] == outcome["version"] == 2
    assert row["delivered_at"] <= row["started_at"] <= row["finished_at"]
    with pytest.raises(IllegalTransition, match=f"request {key} is promoted; it can become running only from "
                                                "delivered"):
        move(store, key, "running")
    with pytest.raises(IllegalTransition, match="is promoted"):
        finish_request(store, key, "failed", "a late hook")
    assert fail_request(store, key, "a late hook") is None
    assert requests_of(store, trained.name)[0]["status"] == "promoted"


def crash(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("worker killed")


def test_a_crash_after_promotion_ends_promoted_with_the_new_reference(trained: ModelConfig,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The run dies between the promotion and the re-baselining: its failure hook settles the request as
    promoted from the registry, finishes the re-baselining, and nothing is doubled."""
    monkeypatch.setattr(retrain_module, "rebaseline", crash)
    store = open_store()
    request = ask_in_process(trained, 2)
    with pytest.raises(RuntimeError, match="worker killed"):
        run_retrain(trained, request)
    row = requests_of(store, trained.name)[0]
    assert (row["status"], row["challenger_version"]) == ("promoted", 2)
    assert row["decision"].startswith("v2 promoted (settled after the run ended: retrain run failed")
    assert "RuntimeError: worker killed" in row["decision"]
    assert champion(store, trained.name)["version"] == 2  # type: ignore[index]
    assert [v["status"] for v in versions(store, trained.name)] == ["retired", "champion"]
    assert load_reference.fn(store, trained).version == "v2"
    assert [e["version"] for e in events_of(store, trained.name) if e["event"] == "promoted"] == [2]


def test_a_run_killed_without_its_hook_is_settled_by_the_next_sweep(trained: ModelConfig,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 runs no hook: the request stays `running` until a sweep reads the registry and settles it."""
    monkeypatch.setattr(retrain_module, "rebaseline", crash)
    monkeypatch.setattr(retrain_module, "fail_request", lambda *_args: None)
    store = open_store()
    request = ask_in_process(trained, 2)
    with pytest.raises(RuntimeError):
        run_retrain(trained, request)
    assert requests_of(store, trained.name)[0]["status"] == "running"
    assert sweep_outbox(store, trained.name)["settled"] == 1
    assert requests_of(store, trained.name)[0]["status"] == "promoted"
    assert load_reference.fn(store, trained).version == "v2"
    assert sweep_outbox(store, trained.name)["settled"] == 0


def test_a_failure_after_the_request_closed_leaves_it_promoted(trained: ModelConfig,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A step after the request was closed fails: the failure hook does not overwrite `promoted`."""
    monkeypatch.setattr(retrain_module, "announce_decision", crash)
    request = ask_in_process(trained, 2)
    with pytest.raises(RuntimeError):
        run_retrain(trained, request)
    row = requests_of(open_store(), trained.name)[0]
    assert row["status"] == "promoted" and "settled" not in row["decision"]


def test_a_failed_retrain_backs_off_and_registers_nothing(monitored: ModelConfig, project: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken trainer fails its request (not left open) and starts the failure back-off, in window time."""
    config = with_drifting_weeks(project(retraining__failure_backoff="14d"))

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise TrainerError("tasks.retrain.trainers:gradient_boosting raised ValueError")

    monkeypatch.setattr(retrain_module, "train_challenger", broken)
    store = open_store()
    request = ask_in_process(config, 2)
    with pytest.raises(TrainerError):
        run_retrain(config, request)
    failed = requests_of(store, config.name)[0]
    assert failed["status"] == "failed" and "gradient_boosting raised ValueError" in failed["decision"]
    assert [v["version"] for v in versions(store, config.name)] == [1]
    assert ask(config, 3)["decision"].startswith("refused: back-off of 14d after 1 failed retraining(s)")
    assert ask(config, 4)["status"] in ("requested", "delivered")  # two weeks after the failure


def test_a_severe_verdict_overrides_the_cooldown_and_records_why(trained: ModelConfig) -> None:
    """Within the cooldown after a retrain, a severe breach is accepted; the override is on the request and in
    the model's events."""
    store = open_store()
    first = ask_in_process(trained, 1)
    move(store, first["idempotency_key"], "running")
    move(store, first["idempotency_key"], "rejected", decision="kept the champion")
    severe = ask_in_process(trained, 2, severe=True)  # a week later, within the 14-day cooldown
    assert severe["status"] == "delivered" and severe["severe"]
    assert severe["override"].startswith("severe breach overrides the cooldown of 14d since the retraining "
                                         "requested for the window ending")
    with store.connect() as conn:
        events = conn.execute(sa.select(model_events.c.event, model_events.c.reason).where(
            model_events.c.event == "cooldown_override")).all()
    assert [(e.event, e.reason) for e in events] == [("cooldown_override", severe["override"])]


def replay_in_fresh_home(home: Path, monkeypatch: pytest.MonkeyPatch, config: ModelConfig) -> dict[str, Any]:
    monkeypatch.setenv("DRIFTFLOW_HOME", str(home))
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", f"sqlite:///{home / 'warehouse.db'}")
    monkeypatch.setenv("DRIFTFLOW_STORE_URL", f"sqlite:///{home / 'store.db'}")
    seed_monitored(config)
    for n in range(1, 5):
        log_week(config, week(n, seed=10 + n, shifts=SEASON_SHIFT if n >= 2 else None))
    windows, summary = replay_history(config.name, [window_end(n) for n in range(1, 5)])
    return {"verdicts": [(w["verdict"], w["reference_version"]) for w in windows], "summary": summary.as_dict(),
            "requests": [(r["window_end"], r["status"], r["decision"]) for r in requests_of(open_store(),
                                                                                          config.name)]}


@pytest.mark.timeout(1800)  # two full replays, each with a retrain
def test_two_replays_of_the_same_history_decide_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         project: Any) -> None:
    """backfill --actions: each accepted retrain completes before the next window, no request is refused as
    "in progress", and a second replay of the same history (fresh stores) gives the identical summary."""
    # a challenger fitted on four weeks: the last week still drifts from its reference and meets the cooldown
    # (fitted on the demo's half year, the new reference holds the shift and the last week is `ok`)
    config = project(retraining__promote_if={"min_gain": -1.0, "min_holdout_rows": 200},
                     retraining__train_window="28d")
    first = replay_in_fresh_home(tmp_path / "first", monkeypatch, config)
    second = replay_in_fresh_home(tmp_path / "second", monkeypatch, config)
    assert first == second
    summary = first["summary"]
    assert summary["windows"] == 4
    assert summary["requests"]["promoted"] == 1 and summary["requests"]["refused"] == 1  # the next: cooldown
    assert not any(status in ("requested", "delivered", "running") for status in summary["requests"])
    assert not any("in progress" in decision for _, _, decision in first["requests"])
    assert summary["compared_windows"] >= 1 and summary["served"] is not None
    # each window was scored by the champion of its time, and a rerun of any of them reproduces it
    store = open_store()
    promoted_at = next(e for e in events_of(store, config.name) if e["event"] == "promoted")["window_end"]
    recorded = {as_utc(r["window_end"]): r for r in window_runs(store, config.name)}
    assert [recorded[window_end(n)]["scored_by"] for n in range(1, 5)] == [
        2 if window_end(n) > as_utc(promoted_at) else 1 for n in range(1, 5)]
    for n in range(1, 5):
        rerun = dict(monitor(model=config.name, window_end=window_end(n), actions=False))
        assert (rerun["verdict"], rerun["reference_version"]) == first["verdicts"][n - 1], n
        assert window_runs(store, config.name, start=window_end(n) - timedelta(seconds=1),
                           end=window_end(n))[0]["revision"] == recorded[window_end(n)]["revision"], n
