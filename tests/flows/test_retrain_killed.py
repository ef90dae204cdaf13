"""`kill -9` of a real retrain process: the model's deployments are served by `driftflow serve` (a Prefect
runner) in a process of its own, a retrain request is delivered to it, and the process the runner started for
the run is killed while its trainer works. The runner marks the run Crashed and runs the flow's crash hook, so
the request ends `failed` (not `running` forever), the registry holds no half-registered challenger, and the
next drift window can ask for a retrain at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL

from tasks.config import ModelConfig
from tasks.registry.versions import versions
from tasks.retrain.trigger import requests_of
from tasks.store.engine import open_store
from tests.flows.test_retrain_requests import ask, ask_in_process, with_drifting_weeks

DRIFTFLOW = Path(sys.executable).with_name("driftflow")
SLOW_TRAINER = '''
import os, time
from pathlib import Path

def train(features, target, config):
    Path(os.environ["SLOW_TRAINER_PID"]).write_text(str(os.getpid()))
    time.sleep(600)  # killed long before
'''


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture()
def slow(monitored: ModelConfig, project: Any, tmp_path: Path) -> ModelConfig:
    """The model retrained by a trainer that records its process id and then works for ten minutes."""
    config = with_drifting_weeks(project(retraining__trainer="slow_trainers:train"))
    (Path(os.environ["DRIFTFLOW_PROJECT_DIR"]) / "slow_trainers.py").write_text(SLOW_TRAINER)
    return config


@pytest.fixture()
def served(slow: ModelConfig, tmp_path: Path) -> Iterator[Path]:
    """`driftflow serve -m flights-delay` running; yields the file the trainer writes its process id to."""
    pid_file = tmp_path / "trainer.pid"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "SLOW_TRAINER_PID": str(pid_file),
           "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(DRIFTFLOW), "serve", "-m", slow.name], env=env, stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield pid_file
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


async def flow_run_state(flow_run_id: str) -> str | None:
    async with get_client() as client:
        run = await client.read_flow_run(UUID(flow_run_id))
    return run.state.type.value if run.state else None


def test_a_killed_retrain_ends_failed_and_the_next_window_can_retrain(slow: ModelConfig, served: Path) -> None:
    import asyncio

    store = open_store()
    request = ask(slow, 2)
    assert request["status"] == "delivered", request
    pid = int(wait_for(lambda: served.is_file() and served.read_text(), "the trainer to start"))
    assert requests_of(store, slow.name)[0]["status"] == "running"

    os.kill(pid, signal.SIGKILL)

    row = wait_for(lambda: next((r for r in requests_of(store, slow.name) if r["status"] != "running"), None),
                   "the request to close", timeout=120)
    assert row["status"] == "failed", row
    assert "crash" in row["decision"].lower(), row["decision"]
    assert asyncio.run(flow_run_state(row["flow_run_id"])) == "CRASHED"
    assert [v["status"] for v in versions(store, slow.name)] == ["champion"]  # nothing half-registered
    following = ask_in_process(slow, 3)
    assert following["status"] == "delivered", following  # not refused as "in progress", no hours of waiting
