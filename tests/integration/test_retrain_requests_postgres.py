"""Retrain requests on PostgreSQL under real concurrency: two requests at once start one retraining, two
deliveries or two starts of the same request record one move. Skipped, with the reason, without PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tasks.retrain.trigger as trigger
from tasks.config import ModelConfig, load_model_config
from tasks.results import Verdict
from tasks.retrain.outbox import deliver
from tasks.retrain.requests import IllegalTransition
from tasks.retrain.trigger import request_retraining, requests_of, start_request
from tasks.schedule import resolve_window
from tasks.store.engine import open_store
from tests.support import window_end

pytestmark = pytest.mark.postgres


@pytest.fixture()
def config(postgres_env: Path, prefect_server: None) -> ModelConfig:
    config = load_model_config("flights-delay")
    return config.model_copy(update={"policy": config.policy.model_copy(update={"cooldown": timedelta(0)})})


def in_threads(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads at once; their results, or the exceptions they raised."""
    results: list[Any] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            results.append(call())
        except Exception as exc:  # the loser's error is the result under test
            results.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def no_run(_row: dict[str, Any]) -> None:
    return None


def test_two_retrains_requested_at_once_start_one(config: ModelConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both requests reach the per-model lock together (a barrier holds them before it); the advisory lock lets
    one decide first, and the other sees it in progress: one retraining, one refusal, nothing doubled."""
    barrier = threading.Barrier(2)
    lock = trigger._lock_model

    def racing_lock(conn: sa.Connection, model: str) -> None:
        barrier.wait(timeout=60)
        lock(conn, model)

    monkeypatch.setattr(trigger, "_lock_model", racing_lock)
    store = open_store()

    def ask(n: int) -> Callable[[], dict[str, Any]]:
        verdict = Verdict("drift", [f"drift in week {n}"], breach=True)
        return lambda: request_retraining.fn(store, config, resolve_window(config, window_end(n)), verdict,
                                             send=no_run)

    results = in_threads(ask(2), ask(3))
    assert sorted(r["status"] for r in results) == ["delivered", "refused"]
    refused = next(r for r in results if r["status"] == "refused")
    assert refused["decision"].startswith("refused: a retraining is already in progress")
    assert sorted(r["status"] for r in requests_of(store, config.name)) == ["delivered", "refused"]


def test_two_deliveries_and_two_starts_of_one_request_record_one_move(config: ModelConfig) -> None:
    """Two sweepers deliver the same request at once (Prefect's idempotency key makes it one run): one records
    `delivered`; two runs start it at once: one is `running`, the other is refused with IllegalTransition."""
    store = open_store()
    verdict = Verdict("drift", ["drift"], breach=True)
    unsent = request_retraining.fn(store, config, resolve_window(config, window_end(2)), verdict,
                                   send=lambda _row: (_ for _ in ()).throw(ConnectionError("down")))
    key = unsent["idempotency_key"]
    assert unsent["status"] == "requested"
    barrier = threading.Barrier(2)

    def same_run(_row: dict[str, Any]) -> str:
        barrier.wait(timeout=60)  # both have read `requested` and sent before either records the move
        return "0b1c6f0e-0000-4000-8000-000000000001"

    delivered = in_threads(lambda: deliver(store, key, same_run), lambda: deliver(store, key, same_run))
    assert [(r["status"], r["flow_run_id"], r["attempts"]) for r in delivered] == \
        [("delivered", "0b1c6f0e-0000-4000-8000-000000000001", 2)] * 2
    started = in_threads(lambda: start_request(store, key, "run-a"), lambda: start_request(store, key, "run-b"))
    errors = [r for r in started if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], IllegalTransition)
    assert "is running; it can become running only from delivered" in str(errors[0])
    assert requests_of(store, config.name)[0]["status"] == "running"
