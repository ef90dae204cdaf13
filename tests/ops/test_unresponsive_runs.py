"""A run whose process is killed is marked Crashed by the server, not left Running forever.

On a real `prefect server start` with driftflow's "unresponsive runs" automation applied, a process runs a
flow named `monitor` (heartbeats every 30 s, as driftflow's commands set them) and is killed with SIGKILL
while it runs. No client is left to report anything: the server's automation must notice the silence.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from tasks.ops.automations import FINISHED_STATES, UNRESPONSIVE_AFTER, apply_automations, unresponsive_runs_automation

STAND_IN = '''
import sys, time
from prefect import flow, runtime

@flow(name="monitor")
def monitor():
    print(runtime.flow_run.id, flush=True)
    time.sleep(600)

monitor()
'''


def state_of(flow_run_id: str) -> str:
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(flow_run_id))
    return run.state.type.value if run.state else "NONE"


def test_a_killed_run_is_marked_crashed_once_its_heartbeats_stop(server: str, tmp_path: Path) -> None:
    with temporary_settings({PREFECT_API_URL: server}):
        apply_automations([unresponsive_runs_automation(list(FINISHED_STATES))])
        script = tmp_path / "stand_in.py"
        script.write_text(STAND_IN)
        env = {**os.environ, "PREFECT_API_URL": server, "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
               "PREFECT_HOME": str(tmp_path / "prefect")}
        process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        try:
            assert process.stdout is not None
            flow_run_id = process.stdout.readline().strip()
            time.sleep(3)  # the first heartbeat is sent as the run starts
            assert state_of(flow_run_id) == "RUNNING"
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            deadline = time.monotonic() + UNRESPONSIVE_AFTER.total_seconds() + 120
            while state_of(flow_run_id) == "RUNNING" and time.monotonic() < deadline:
                time.sleep(5)
        finally:
            if process.poll() is None:
                process.kill()
        assert state_of(flow_run_id) == "CRASHED"
        with get_client(sync_client=True) as client:
            message = client.read_flow_run(UUID(flow_run_id)).state.message  # type: ignore[union-attr]
        assert "no heartbeat" in (message or "")
