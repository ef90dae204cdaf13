"""End-to-end tests: a real `prefect server start` with its UI, and headless Chromium to look at it.

Chromium is optional on a laptop (the tests skip with the reason) and mandatory in CI, which sets
DRIFTFLOW_REQUIRE_BROWSER=1. The Prefect server is this folder's own: its home in tmp, a free port (never
4200, where a developer's demo may be running), no PREFECT_API_URL inherited, stopped at the end. The test
process reports to it through `temporary_settings`, which also takes precedence over the session-wide
`prefect_test_harness` that tests/flows may have started earlier in the same session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.prefect_server import prefect_server
from tests.support import flush_prefect_workers


@pytest.fixture()
def chromium() -> str:
    """The headless Chromium executable; skips (or fails, with DRIFTFLOW_REQUIRE_BROWSER=1) without one."""
    path = shutil.which("chromium")
    if path is None:
        reason = ("Chromium not found (`chromium` on PATH, e.g. /usr/bin/chromium from the Debian package "
                  "`chromium`); the UI end-to-end test needs it")
        if os.environ.get("DRIFTFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} and DRIFTFLOW_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return path


@pytest.fixture()
def flush_to_server() -> Callable[[], None]:
    """Call it to get the queued logs and events of this process onto the server before looking at the UI."""
    return flush_prefect_workers


@pytest.fixture()
def prefect_ui(tmp_path: Path) -> Iterator[str]:
    """A real `prefect server start` with the classic UI on a free port; yields its base URL.

    While the test runs, this process's PREFECT_API_URL points at it.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path / "prefect-server"
    home.mkdir()
    with (prefect_server(home, PREFECT_SERVER_UI_V2_ENABLED="false") as base_url,
          temporary_settings({PREFECT_API_URL: f"{base_url}/api"})):
        flush_prefect_workers()  # an events worker left by an earlier server must not take this test's events
        try:
            yield base_url
        finally:
            flush_prefect_workers()
