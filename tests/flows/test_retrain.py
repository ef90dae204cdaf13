"""The closed loop under a real Prefect server: drift → one retrain request → challenger gated → promotion."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client

from flows.demo import execute
from flows.monitor import monitor
from flows.retrain import retrain
from tasks.config import ModelConfig
from tasks.registry.references import load_reference
from tasks.registry.versions import champion, versions
from tasks.retrain.trigger import request_retraining, requests_of
from tasks.store.engine import open_store
from tasks.store.windows import audit_rows
from tests.flows.conftest import log_week, week, window_end

SEASON_SHIFT = {"temp": 40.0, "wind_speed": 15.0, "distance": 800.0}


def drift_weeks(config: ModelConfig, *weeks: int) -> None:
    for n in weeks:
        log_week(config, week(n, seed=10 + n, shifts=SEASON_SHIFT))


def run(n: int, actions: bool = True) -> dict[str, Any]:
    return dict(monitor(model="flights-delay", window_end=window_end(n), actions=actions))


def retrain_after_two_drifting_weeks(config: ModelConfig) -> dict[str, Any]:
    """Weeks 1-3 drift; week 2 is the first `drift` verdict: execute the retrain run it requested."""
    drift_weeks(config, 1, 2, 3)
    run(1)
    request = run(2)["retrain"]
    assert request["status"] == "delivered"
    return dict(execute(retrain, UUID(request["flow_run_id"])))


def test_drift_requests_exactly_one_retraining_per_window(monitored: ModelConfig, project: Any) -> None:
    """A drift verdict requests retrain/flights-delay once; running the same window again adds nothing."""
    config = project()
    drift_weeks(config, 1, 2)
    run(1)
    first = run(2)
    assert first["verdict"] == "drift"
    assert first["retrain"]["status"] == "delivered"
    again = run(2)
    assert again["retrain"]["flow_run_id"] == first["retrain"]["flow_run_id"]
    rows = requests_of(open_store(), "flights-delay")
    assert [(r["status"], r["flow_run_id"]) for r in rows] == [("delivered", first["retrain"]["flow_run_id"])]
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(UUID(first["retrain"]["flow_run_id"]))
        deployment = client.read_deployment(flow_run.deployment_id)  # type: ignore[arg-type]
    assert deployment.name == "flights-delay"
    assert flow_run.parameters["window_end"] == window_end(2).isoformat()
    limit = deployment.global_concurrency_limit  # at most one retraining of the model at a time
    assert limit is not None and limit.limit == 1


def test_promotion_refreshes_the_reference(monitored: ModelConfig, project: Any) -> None:
    """A winning challenger becomes champion, the old one retires, and later windows use its reference."""
    config = project(retraining__promote_if={"min_gain": -1.0})  # any scorable challenger wins
    outcome = retrain_after_two_drifting_weeks(config)
    assert outcome["outcome"] == "promoted"
    store = open_store()
    assert champion(store, "flights-delay")["version"] == outcome["version"] == 2  # type: ignore[index]
    assert [v["status"] for v in versions(store, "flights-delay")] == ["retired", "champion"]
    assert load_reference.fn(store, config).version == "v2"
    assert requests_of(store, "flights-delay")[0]["status"] == "promoted"
    third = run(3)
    assert third["reference_version"] == "v2"


def test_a_rerun_of_the_window_that_led_to_a_promotion_keeps_the_reference_it_was_measured_against(
        monitored: ModelConfig, project: Any) -> None:
    """The window whose drift promoted v2 was measured against v1; run again after the promotion, it is
    measured against v1 again: same verdict, reasons and reference, revision 1, nothing audited. The next
    window is measured against v2."""
    config = project(retraining__promote_if={"min_gain": -1.0})  # any scorable challenger wins
    drift_weeks(config, 1, 2, 3)
    run(1)
    first = run(2)
    assert first["reference_version"] == "v1"
    assert execute(retrain, UUID(first["retrain"]["flow_run_id"]))["outcome"] == "promoted"
    again = run(2)
    assert (again["verdict"], again["reasons"], again["reference_version"], again["revision"]) == \
        (first["verdict"], first["reasons"], "v1", 1)
    assert audit_rows(open_store(), "flights-delay") == []
    assert run(3)["reference_version"] == "v2"


def test_a_worse_challenger_is_rejected_and_cooldown_refuses_the_next(monitored: ModelConfig,
                                                                       project: Any) -> None:
    """A challenger short of the margin is registered as rejected and nothing changes; the drift a week later
    is refused by the 14-day cooldown."""
    config = project(retraining__promote_if={"min_gain": 1.0})  # no AUC gain can exceed 1
    outcome = retrain_after_two_drifting_weeks(config)
    assert outcome["outcome"] == "rejected"
    store = open_store()
    assert champion(store, "flights-delay")["version"] == 1  # type: ignore[index]
    assert [v["status"] for v in versions(store, "flights-delay")] == ["champion", "rejected"]
    assert load_reference.fn(store, config).version == "v1"
    assert requests_of(store, "flights-delay")[0]["status"] == "rejected"
    third = run(3)
    assert third["verdict"] == "drift"
    assert third["retrain"]["status"] == "refused"
    assert third["retrain"]["decision"].startswith("refused: cooldown of 14d")
    assert [r["status"] for r in requests_of(store, "flights-delay")] == ["rejected", "refused"]


def test_two_drift_windows_at_once_start_one_retraining(monitored: ModelConfig, project: Any) -> None:
    """Two drifting windows requesting at the same moment: one is accepted, the other refused as in progress."""
    config = project(policy__cooldown="0d")
    drift_weeks(config, 1, 2, 3)
    run(1, actions=False)
    verdicts = {n: run(n, actions=False) for n in (2, 3)}
    assert all(v["verdict"] == "drift" for v in verdicts.values())
    from tasks.results import Verdict
    from tasks.schedule import resolve_window

    results: list[dict[str, Any]] = []

    def request(n: int) -> None:
        verdict = Verdict("drift", verdicts[n]["reasons"], breach=True)
        results.append(request_retraining.fn(open_store(), config, resolve_window(config, window_end(n)), verdict))

    threads = [threading.Thread(target=request, args=(n,)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["status"] for r in results) == ["delivered", "refused"]
    refused = next(r for r in results if r["status"] == "refused")
    assert "already in progress" in refused["decision"]


def test_invalid_data_never_triggers_retraining(monitored: ModelConfig, project: Any) -> None:
    """A drifting week with invalid data after a breach is data_invalid and requests nothing."""
    config = project()
    drift_weeks(config, 1)
    frame = week(2, seed=12, shifts=SEASON_SHIFT)
    frame.loc[frame.index[::10], "carrier"] = "ZZ"  # 10% unknown carriers: the suite blocks the window
    log_week(config, frame)
    run(1)
    second = run(2)
    assert second["verdict"] == "data_invalid"
    assert second["retrain"] is None
    assert requests_of(open_store(), "flights-delay") == []
