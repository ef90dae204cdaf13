"""The local Prefect server the demo starts and leaves up for browsing (and the report file server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flows.prefect_env import server_healthy
from tasks import artifacts
from tasks.settings import artifacts_dir, home

HOST, PORT, REPORTS_PORT = "127.0.0.1", 4200, 4201
API_URL = f"http://{HOST}:{PORT}/api"
UI_URL = f"http://{HOST}:{PORT}"
REPORTS_URL = f"http://{HOST}:{REPORTS_PORT}"


def _pidfile(name: str) -> Path:
    return home() / f"{name}.pid"


def _spawn(name: str, command: list[str], env: dict[str, str]) -> None:
    home().mkdir(parents=True, exist_ok=True)
    log = open(home() / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=env, start_new_session=True)
    _pidfile(name).write_text(str(process.pid))


def start_server(timeout: float = 120.0) -> bool:
    """Start the Prefect server (SQLite, under DRIFTFLOW_HOME) unless one answers; True if started."""
    if server_healthy(API_URL):
        _start_reports()
        return False
    env = {**os.environ, "PREFECT_SERVER_API_HOST": HOST, "PREFECT_SERVER_API_PORT": str(PORT),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_UI_V2_ENABLED": "false", "PREFECT_HOME": str(home() / "prefect")}
    env.pop("PREFECT_API_URL", None)
    _spawn("prefect-server", [str(Path(sys.executable).parent / "prefect"), "server", "start"], env)
    deadline = time.monotonic() + timeout
    while not server_healthy(API_URL):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Prefect server did not answer within {timeout:.0f}s; see "
                               f"{home() / 'prefect-server.log'}")
        time.sleep(0.5)
    _start_reports()
    return True


def _start_reports() -> None:
    """Serve the artifact folder so report links in the UI open in the browser. Only a local folder is
    served: a remote store (DRIFTFLOW_ARTIFACTS=s3://…) is reached through DRIFTFLOW_REPORTS_URL or
    `driftflow report`, never copied here."""
    if not artifacts.is_local():
        return
    pidfile = _pidfile("reports-server")
    if pidfile.exists() and _alive(int(pidfile.read_text())):
        return
    artifacts_dir().mkdir(parents=True, exist_ok=True)
    _spawn("reports-server", [sys.executable, "-m", "http.server", str(REPORTS_PORT), "--bind", HOST,
                              "--directory", str(artifacts_dir())], dict(os.environ))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop_servers() -> list[str]:
    """Stop what `start_server` started (the whole process group; a second signal if needed)."""
    stopped = []
    for name in ("prefect-server", "reports-server"):
        pidfile = _pidfile(name)
        if not pidfile.exists():
            continue
        pid = int(pidfile.read_text())
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if not _alive(pid):
                break
        pidfile.unlink(missing_ok=True)
        stopped.append(name)
    return stopped
