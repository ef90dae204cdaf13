"""A real `prefect server start` in a subprocess, for tests that need more than the test harness.

Its home is the given folder, its port a free one (never 4200, where a developer's demo may be running), no
PREFECT_* variable is inherited, and it is stopped (process group: SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from flows.prefect_env import server_healthy

STARTUP_SECONDS = 120
_running: dict[str, subprocess.Popen[bytes]] = {}  # base URL -> server process, for `kill_server`


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def prefect_server(home: Path, **settings: str) -> Iterator[str]:
    """Start the server with `settings` (PREFECT_… names) added; yields its base URL once healthy."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_API_HOST": "127.0.0.1",
                "PREFECT_SERVER_API_PORT": str(port), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1", **settings})
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server_healthy(f"{base_url}/api", timeout=2):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"the Prefect server did not become healthy at {base_url}/api within "
                            f"{STARTUP_SECONDS}s:\n{tail}")
            time.sleep(0.5)
        _running[base_url] = server
        yield base_url
    finally:
        _running.pop(base_url, None)
        _stop(server)


def kill_server(base_url: str) -> None:
    """SIGKILL the server started at `base_url` (and its children): an outage, not a shutdown."""
    server = _running[base_url]
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


def _stop(server: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
