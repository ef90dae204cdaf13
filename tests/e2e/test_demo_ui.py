"""The Prefect UI shows the monitor and retrain runs of the demo with their artifacts.

Specification, as a user checks it in a browser after `make demo` (here: a short replay, February to April
2013, through `flows.demo.replay` against a real Prefect server with the classic UI, rendered by headless
Chromium):

- The runs page lists one monitor run per replayed week, named `flights-delay <window end>`, whose state
  badge is that week's verdict (`OK`, `Warn`, `Drift`, …), and the retrain run its drift requested, named
  `flights-delay retrain <window end>`, whose state badge is its outcome (`Promoted`).
- The page of the monitor run that requested the retraining shows its name, the `Drift` state, its flow
  (`monitor`) and deployment, and a log that ends in that state; the retrain run's page shows `Promoted`
  and its flow (`retrain`).
- The monitor run's artifacts are `flights-delay-verdict`, `flights-delay-column-drift` and
  `flights-delay-evidently-report`; the retrain run's are `flights-delay-champion-vs-challenger` and
  `flights-delay-promotion`. Each is listed, with its flow run, on the Artifacts tab of the task run that
  published it (the flow-run page draws them only on its canvas graph, and its Artifacts tab cannot be
  opened by URL: the classic UI falls back to Logs while the run loads).
- Each artifact's page renders it: the verdict as markdown (a `Reasons` heading, every reason, the
  accepted retraining), the per-column table with the drifted columns marked `yes`, the link to the
  Evidently HTML report under DRIFTFLOW_REPORTS_URL (the report file exists there), the
  champion-vs-challenger table with both versions and scores, and the promotion decision with its reason.

A screenshot of the retrain run's page is saved in the test's tmp folder (not asserted; its path is printed).
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows.demo import replay
from flows.monitor import STATE_NAMES
from tasks.settings import artifacts_dir
from tests.e2e.browser import SCREENSHOT_WINDOW, chromium_run, render, text
from tests.support import FEATURES_BREACH, copy_project

START, END = datetime(2013, 2, 4, 6, tzinfo=UTC), datetime(2013, 4, 29, 6, tzinfo=UTC)
REPORTS_URL = "http://reports.driftflow.invalid"  # only the links are checked; nothing is served there
MODEL = "flights-delay"
MONITOR_KEYS = [f"{MODEL}-verdict", f"{MODEL}-column-drift", f"{MODEL}-evidently-report"]
RETRAIN_KEYS = [f"{MODEL}-champion-vs-challenger", f"{MODEL}-promotion"]

def state_badges(dom: str) -> list[str]:
    return re.findall(r'class="[^"]*\bstate-badge\b[^"]*".*?<span>([^<]+)</span>', dom, flags=re.S)


def run_list(dom: str) -> dict[str, tuple[str, str]]:
    """The runs list as shown: run name -> (flow run id it links to, state badge)."""
    rows = {}
    for item in dom.split('class="flow-run-list-item"')[1:]:
        link = re.search(r'href="/runs/flow-run/([0-9a-f-]{36})"[^>]*><span>([^<]+)</span>', item)
        badges = state_badges(item)
        assert link and badges, f"unreadable run list item: {text(item)[:200]}"
        rows[html.unescape(link[2])] = (link[1], badges[0])
    return rows


def stamp(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%dT%H:%M")


def read_artifacts(flow_run_ids: list[UUID]) -> dict[tuple[UUID, str], Any]:
    """(flow run id, key) -> the artifact, as the API knows it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=flow_run_ids)))
    found: dict[tuple[UUID, str], Any] = {}
    for artifact in artifacts:
        assert artifact.flow_run_id is not None and artifact.key is not None
        assert (artifact.flow_run_id, artifact.key) not in found, f"{artifact.key} published twice"
        found[(artifact.flow_run_id, artifact.key)] = artifact
    return found


def test_the_prefect_ui_shows_the_demo_runs_with_their_artifacts(
        chromium: str, prefect_ui: str, flush_to_server: Callable[[], None], driftflow_home: Path,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRIFTFLOW_REPORTS_URL", REPORTS_URL)
    copy_project(tmp_path, monkeypatch, **FEATURES_BREACH)  # spring's weather breaches at once: a short replay
    began = time.monotonic()
    result = replay(start=START, end=END)
    flush_to_server()  # the runs' logs are on the server before the browser asks for them
    replayed = time.monotonic()

    # What the replay returned: a drift that requested a retraining, and a promoted challenger.
    assert len(result.weeks) == 13
    promoted = [r for r in result.retrains if r["outcome"] == "promoted"]
    assert promoted, f"no promotion in {START:%Y-%m-%d}..{END:%Y-%m-%d}: {result.retrains}"
    retrain = promoted[0]
    requester = next(w for w in result.weeks if w["window_end"] == retrain["window_end"])
    assert requester["verdict"] == "drift" and requester["retrain"]["status"] == "delivered"
    retrain_id = UUID(requester["retrain"]["flow_run_id"])
    monitor_name = f"{MODEL} {stamp(requester['window_end'])}"
    retrain_name = f"{MODEL} retrain {stamp(retrain['window_end'])}"
    expected_runs = {f"{MODEL} {stamp(w['window_end'])}": STATE_NAMES[w["verdict"]] for w in result.weeks}
    expected_runs |= {f"{MODEL} retrain {stamp(r['window_end'])}": r["outcome"].capitalize()
                      for r in result.retrains}

    # (a) The runs page: every run of the replay, by its readable name, with its verdict as its state.
    runs_dom = render(chromium, f"{prefect_ui}/runs", *expected_runs)
    shown = run_list(runs_dom)
    assert {name: state for name, (_, state) in shown.items()} == expected_runs, text(runs_dom)[:3000]
    assert shown[retrain_name][0] == str(retrain_id)
    monitor_id = UUID(shown[monitor_name][0])  # where a click on the drift run leads

    artifacts = read_artifacts([monitor_id, retrain_id])
    assert sorted(key for run, key in artifacts if run == monitor_id) == sorted(MONITOR_KEYS)
    assert sorted(key for run, key in artifacts if run == retrain_id) == sorted(RETRAIN_KEYS)

    def artifact(run: UUID, key: str) -> Any:
        return artifacts[(run, key)]

    verdict_task = artifact(monitor_id, f"{MODEL}-verdict").task_run_id
    decision_task = artifact(retrain_id, f"{MODEL}-promotion").task_run_id
    assert all(artifact(monitor_id, key).task_run_id == verdict_task for key in MONITOR_KEYS)
    assert all(artifact(retrain_id, key).task_run_id == decision_task for key in RETRAIN_KEYS)

    def artifact_page(run: UUID, key: str, run_name: str, content: str) -> tuple[str, ...]:
        return f"{prefect_ui}/artifacts/artifact/{artifact(run, key).id}", f"Flow Run {run_name}", content

    pages = {  # name: (url, *what its text shows once the SPA has rendered it)
        "monitor run": (f"{prefect_ui}/runs/flow-run/{monitor_id}", monitor_name, "Finished in state Drift("),
        "retrain run": (f"{prefect_ui}/runs/flow-run/{retrain_id}", retrain_name, "Finished in state Promoted("),
        "monitor artifacts": (f"{prefect_ui}/runs/task-run/{verdict_task}?tab=Artifacts", *MONITOR_KEYS),
        "retrain artifacts": (f"{prefect_ui}/runs/task-run/{decision_task}?tab=Artifacts", *RETRAIN_KEYS),
        f"{MODEL}-verdict": artifact_page(monitor_id, f"{MODEL}-verdict", monitor_name, "Reasons"),
        f"{MODEL}-column-drift": artifact_page(monitor_id, f"{MODEL}-column-drift", monitor_name, "drifted"),
        f"{MODEL}-evidently-report": artifact_page(monitor_id, f"{MODEL}-evidently-report", monitor_name,
                                                    "Evidently drift report"),
        f"{MODEL}-champion-vs-challenger": artifact_page(retrain_id, f"{MODEL}-champion-vs-challenger",
                                                          retrain_name, "challenger"),
        f"{MODEL}-promotion": artifact_page(retrain_id, f"{MODEL}-promotion", retrain_name, "promoted"),
    }
    doms = {name: render(chromium, *page) for name, page in pages.items()}
    screenshot = tmp_path / "retrain-run.png"
    chromium_run(chromium, SCREENSHOT_WINDOW, f"--screenshot={screenshot}", pages["retrain run"][0])
    texts = {page: text(dom) for page, dom in doms.items()}
    rendered = time.monotonic()

    # (b) The run pages: name, state, flow and deployment, and the log of the run ending in its state.
    page = texts["monitor run"]
    assert f"Flow Run: {monitor_name}" in page and "Drift" in state_badges(doms["monitor run"]), page[:2000]
    assert "Flow monitor Deployment flights-delay" in page and "Finished in state Drift(" in page, page[:2000]
    page = texts["retrain run"]
    assert f"Flow Run: {retrain_name}" in page and "Promoted" in state_badges(doms["retrain run"]), page[:2000]
    assert "Flow retrain Deployment flights-delay" in page and "Finished in state Promoted(" in page, page[:2000]

    # The artifacts of each run, listed by key on the task run that published them.
    page = texts["monitor artifacts"]
    assert all(key in page for key in MONITOR_KEYS) and f"Flow Run {monitor_name}" in page, page[:2000]
    page = texts["retrain artifacts"]
    assert all(key in page for key in RETRAIN_KEYS) and f"Flow Run {retrain_name}" in page, page[:2000]

    # (c) Each artifact's page renders its content.
    verdict_dom, page = doms[f"{MODEL}-verdict"], texts[f"{MODEL}-verdict"]
    assert re.search(r"<h2\b[^>]*>\s*Reasons\s*<", verdict_dom), page[:2000]
    assert f"{MODEL}: drift" in page and "Retraining delivered" in page, page[:2000]
    assert all(reason in page for reason in requester["reasons"]), (requester["reasons"], page[:2000])

    page = texts[f"{MODEL}-column-drift"]
    assert requester["drifted_columns"], requester
    for column in requester["drifted_columns"]:
        row = f"{column['column']} {column['kind']} {column['method']} {column['score']:.3f}"
        assert re.search(re.escape(row) + r" \S+ .+? \S+ (warn|breach) yes", page), (row, page[:2000])

    links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>\s*Evidently drift report', doms[f"{MODEL}-evidently-report"])
    assert len(links) == 1 and links[0].startswith(f"{REPORTS_URL}/"), links
    report = artifacts_dir() / html.unescape(links[0]).removeprefix(f"{REPORTS_URL}/")
    assert report.is_file() and report.stat().st_size > 0, report

    page = texts[f"{MODEL}-champion-vs-challenger"]
    for role, version, score in (("champion", retrain["champion_version"], retrain["champion_score"]),
                                 ("challenger", retrain["version"], retrain["challenger_score"])):
        assert f"{role} {version} {score:.4f} {retrain['holdout_rows']}" in page, (role, page[:2000])

    page = texts[f"{MODEL}-promotion"]
    assert f"{MODEL}: challenger v{retrain['version']} promoted" in page and retrain["reason"] in page, page[:2000]

    print(f"\nretrain run page screenshot: {screenshot}\nreplay {replayed - began:.0f}s, then the runs page, "
          f"{len(doms)} pages and the screenshot rendered in {rendered - replayed:.0f}s")
