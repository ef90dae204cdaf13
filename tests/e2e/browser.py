"""Headless Chromium for the end-to-end tests: render a page, read its text, take a screenshot."""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
import time

# The lists of the classic UI (runs, a task run's artifacts) are virtual scrollers: rows render only once an
# IntersectionObserver sees them. A tall window puts them all in view (at 800x600 the runs list shows none),
# and rendering every compositor stage plus a generous virtual-time budget gives the observer its frames.
# One page at a time: with several Chromiums sharing two cores, rows went missing in a third of the dumps.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
                  "--hide-scrollbars", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=60000"]
DOM_WINDOW, SCREENSHOT_WINDOW = "--window-size=1400,4000", "--window-size=1400,1000"
RENDER_ATTEMPTS = 3


def chromium_run(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120, check=False)


def render(chromium: str, url: str, *ready: str) -> str:
    """The DOM Chromium renders for `url`; rendered again once if its text lacks any of `ready` (the SPA had
    not finished)."""
    dom = ""
    for attempt in range(1, RENDER_ATTEMPTS + 1):
        began = time.monotonic()
        dom = chromium_run(chromium, DOM_WINDOW, "--dump-dom", url).stdout
        missing = [marker for marker in ready if marker not in text(dom)]
        if not missing:
            break
        print(f"attempt {attempt}: {url} did not show {missing} after {time.monotonic() - began:.1f}s")
    return dom


def text(dom: str) -> str:
    """What the page reads as: the visible text, whitespace collapsed."""
    dom = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom))).strip()
