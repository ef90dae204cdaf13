"""Prefect settings for driftflow's own commands; called before Prefect is first imported."""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request

from tasks.errors import OrchestratorUnavailable
from tasks.ops.automations import HEARTBEAT_SECONDS
from tasks.settings import home

LOCAL_SERVER = "http://127.0.0.1:4200/api"
CLIENT_RETRIES = 3  # attempts after the first of each Prefect API call (Prefect's default: 5)
DEBUG = "DRIFTFLOW_DEBUG"  # set by `driftflow --debug`: tracebacks reach the terminal, not only the Prefect log


def debugging() -> bool:
    return os.environ.get(DEBUG, "") not in ("", "0")


def server_healthy(api_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def configure_prefect(*, quiet_console: bool = True) -> str | None:
    """Telemetry off, Prefect's home under DRIFTFLOW_HOME, and the local server used when it is up.

    A quiet console also keeps the errors of flow and task runs off the terminal (the command reports the error
    in one line; the Prefect log keeps the traceback), unless `--debug`.
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
    if os.environ.get("PREFECT_API_URL"):  # heartbeats let the server mark a killed run Crashed
        os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_SECONDS))
    # an API call is retried 3 times (2 + 4 + 8 s) instead of 5 (62 s): a server that died mid-run ends the
    # command in seconds, with its one line, while a server busy for a moment (503) is still waited for
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", str(CLIENT_RETRIES))
    if quiet_console and not debugging():
        quiet_run_failures()
    return os.environ.get("PREFECT_API_URL")


RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
# Prefect's delivery of events when its server is gone: a warning and a whole event per event, every few seconds
DELIVERY_LOGGERS = ("prefect.events.clients", "prefect._internal.concurrency", "EventsWorker")


class RunFailureFilter(logging.Filter):
    """Drops the error records of flow and task runs (Prefect logs each failure with its traceback) and the
    reports of events that could not be delivered (the command's own line says the server is gone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(DELIVERY_LOGGERS):
            return record.levelno < logging.WARNING
        return not (record.levelno >= logging.ERROR and record.name.startswith(RUN_LOGGERS))


def quiet_run_failures() -> None:
    """Filter Prefect's console handlers (the root's, and those of its own loggers that print, like
    `prefect._internal`) only: its API handler still sends the records to the run's log."""
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()
    names = [name for name in logging.root.manager.loggerDict if name.startswith("prefect")]
    for logger in (logging.getLogger(), *map(logging.getLogger, names)):
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and \
                    not any(isinstance(f, RunFailureFilter) for f in handler.filters):
                handler.addFilter(RunFailureFilter())


def require_api(api_url: str | None, timeout: float = 5.0) -> None:
    """Refuse to start runs against a Prefect API that does not answer (any HTTP answer will do)."""
    if not api_url:
        return
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        raise OrchestratorUnavailable(f"the Prefect API at {api_url} does not answer ({reason}); the URL comes "
                                      "from PREFECT_API_URL: start that server, or unset PREFECT_API_URL to run "
                                      "on a temporary one") from None
