"""Prefect settings for driftflow's own commands; called before Prefect is first imported."""

from __future__ import annotations

import os
import urllib.request

from tasks.settings import home

LOCAL_SERVER = "http://127.0.0.1:4200/api"


def server_healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def configure_prefect(*, quiet_console: bool = True) -> str | None:
    """Telemetry off, Prefect's home under DRIFTFLOW_HOME, and the local server used when it is up.

    Returns the API URL runs will report to (None: a temporary in-process server).
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(home() / "prefect"))
    if quiet_console:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL", "WARNING")
    if not os.environ.get("PREFECT_API_URL") and server_healthy(LOCAL_SERVER):
        os.environ["PREFECT_API_URL"] = LOCAL_SERVER
    return os.environ.get("PREFECT_API_URL")
