"""End to end on a real `prefect server start`: the automations `serve` creates notify a real HTTP receiver.

One server, one receiver and one project for the module. The operations file routes drift and health to a
webhook channel whose URL comes from the environment; the model's grace is shortened to seconds.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.settings import PROJECT_DIR
from tests.prefect_server import free_port
from tests.support import flush_prefect_workers, log_week, seed_monitored, week, window_end

SHIFT = {"temp": 40.0, "wind_speed": 15.0, "distance": 800.0}


class Receiver:
    """A local HTTP server that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def matching(self, text: str) -> list[dict[str, Any]]:
        return [b for b in self.bodies if text in b.get("subject", "")]

    def wait_for(self, text: str, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while not self.matching(text) and time.monotonic() < deadline:
            time.sleep(0.5)
        return self.matching(text)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.thread.start()
    yield hook
    hook.server.shutdown()


@pytest.fixture()
def ops_project(tmp_path: Path, driftflow_home: Path, receiver: Receiver, server: str,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the project with a 10 s grace and an operations file routing drift and health to the hook."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / "expectations", project / "expectations")
    (project / "deployments" / "models").mkdir(parents=True)
    model = yaml.safe_load((PROJECT_DIR / "deployments/models/flights-delay.yaml").read_text())
    model["health"] = {"grace": "10s"}
    model["drift"]["severity"] = {"features": "breach"}  # the season's shift below breaches at once
    (project / "deployments/models/flights-delay.yaml").write_text(yaml.safe_dump(model))
    (project / "deployments/operations.yaml").write_text(yaml.safe_dump({
        "channels": {"team-hook": {"kind": "webhook", "url": {"env": "TEST_TEAM_HOOK_URL"}}},
        "notify": [{"events": ["drift", "health"], "channels": ["team-hook"]}]}))
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(project))
    monkeypatch.setenv("TEST_TEAM_HOOK_URL", receiver.url)
    flush_prefect_workers()  # the events worker of an earlier test may still point at another server
    with temporary_settings({PREFECT_API_URL: server, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield project
        flush_prefect_workers()


def base_url(client: Any) -> str:
    """The server's UI address, as run links name it."""
    return str(client.api_url).rstrip("/").removesuffix("/api")


def test_a_stopped_worker_is_noticed_and_a_drift_verdict_sends_exactly_one_notification(
        ops_project: Path, receiver: Receiver) -> None:
    """`serve`'s set-up creates the blocks and automations once (a second set-up changes nothing). A monitor
    run with no worker to take it is reported late by the late automation within seconds of its grace. A warn
    window notifies nobody; the drift window after it produces exactly one webhook call naming the model, the
    window, each reason and a link to the run. `health` names the late run together with the drift verdict."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.states import Scheduled

    from flows.deployments import all_deployments, prepare_serving
    from flows.monitor import monitor
    from tasks.config import load_model_config
    from tasks.ops.health_check import check_health
    from tasks.store.engine import open_store

    deployments = all_deployments()
    first = prepare_serving(deployments)
    # notify drift; the model's late, failing and stale-data automations; the project's unresponsive runs (which
    # the server may hold already from the test of that automation)
    made = first["created"] + first["unchanged"]
    assert len(made) == 5 and "driftflow: unresponsive runs" in made, first
    again = prepare_serving(deployments)
    assert again["created"] == [] and again["updated"] == [] and len(again["unchanged"]) == 5

    config = load_model_config("flights-delay")
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"monitor/{config.name}")
        stranded = client.create_flow_run_from_deployment(
            deployment.id, state=Scheduled(scheduled_time=datetime.now(UTC)))
    late = receiver.wait_for("monitor run late", timeout=300)  # seconds on a quiet machine
    assert len(late) == 1 and stranded.name in late[0]["body"]
    assert f"prefect.flow-run.{stranded.id}" in late[0]["body"]

    seed_monitored(config)
    log_week(config, week(1, seed=12, shifts=SHIFT))
    log_week(config, week(2, seed=13, shifts=SHIFT))
    warned = monitor(model=config.name, window_end=window_end(1), actions=False)
    drifted = monitor(model=config.name, window_end=window_end(2), actions=False)
    assert (warned["verdict"], drifted["verdict"]) == ("warn", "drift")  # type: ignore[index]

    sent = receiver.wait_for("drifted", timeout=120)
    time.sleep(8)  # time for a duplicate to arrive, if one were coming
    assert len(receiver.matching("drifted")) == 1, receiver.bodies
    body = sent[0]["body"]
    assert sent[0]["source"] == "driftflow"
    assert f"Model: {config.name}" in body and "Verdict: drift" in body
    assert f"Window: {drifted['window_start']} to {drifted['window_end']}" in body  # type: ignore[index]
    for reason in drifted["reasons"]:  # type: ignore[index]
        assert f"- {reason}" in body
    with get_client(sync_client=True) as client:
        drift_run = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(
            any_=[f"{config.name} {window_end(2):%Y-%m-%dT%H:%M}"])))
        assert len(drift_run) == 1 and f"Run: {base_url(client)}/runs/flow-run/{drift_run[0].id}" in body
    assert not receiver.matching("warn")

    report = check_health(open_store(), config)
    assert report.last_verdict == "drift"
    assert any(p.startswith(f"late: run {stranded.name}") for p in report.problems), report.problems
