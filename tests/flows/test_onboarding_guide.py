"""docs/onboarding.md, run as written: its Python loader and each of its `driftflow` commands, in order, on a
fresh project folder, under the session's Prefect test server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import flow

from tasks.settings import PROJECT_DIR
from tests.flows.guides import guide_commands, invoke, project_folder, run_loader

GUIDE = PROJECT_DIR / "docs" / "onboarding.md"
MODEL = "electricity-demand"
# What another terminal does in the guide: a server process, not a command whose result the guide shows.
LONG_RUNNING = ("driftflow serve",)


def edit_suite_as_the_guide_says(project: Path) -> None:
    """Section 3: the temperature range becomes the physical limits, -10 … 50 °C, and critical."""
    path = project / "expectations" / f"{MODEL}.json"
    suite = json.loads(path.read_text())
    [rng] = [e for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_between"
             and e["kwargs"]["column"] == "temperature"]
    rng["kwargs"].update(min_value=-10, max_value=50)
    rng["severity"] = "critical"
    path.write_text(json.dumps(suite, indent=2))


@pytest.fixture()
def project(driftflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The guide's section 1: a project folder, its home and its warehouse."""
    return project_folder(tmp_path / "demand-project", monkeypatch)


def test_the_guide_s_commands_onboard_the_model_and_replay_its_year(project: Path) -> None:
    """The loader fills the warehouse; init, register, check and backfill succeed as written; the winter
    windows drift, a retrain is requested, the challenger is gated against the logged model, and the promoted
    one serves the weeks after, better than the logged model would have."""
    from tasks.config import load_model_config
    from tasks.retrain.trigger import requests_of
    from tasks.store.engine import open_store
    from tasks.store.windows import window_runs

    assert "17520 logged forecasts in demand_log" in run_loader(GUIDE, project, "load_demand.py")

    commands = guide_commands(GUIDE, LONG_RUNNING)
    assert [c.split()[1] for c in commands] == ["init", "register", "check", "backfill", "status"]
    outputs: dict[str, str] = {}
    for command in commands:
        verb = command.split()[1]
        if verb == "register":
            edit_suite_as_the_guide_says(project)  # section 3 comes between init and register
        if verb == "backfill":
            from flows.deployments import model_deployments, register

            register(model_deployments(load_model_config(MODEL)))  # what `driftflow serve` does first
        outputs[verb] = invoke(command)

    config = load_model_config(MODEL)
    assert config.columns.context == ["workday", "hour", "weekday"] and config.task == "regression"
    assert "v1 (logged) is the champion" in outputs["register"]
    assert "fit their sources" in outputs["check"]

    summaries: list[dict[str, Any]] = [json.loads(line) for line in
                                       invoke(f"driftflow status -m {MODEL} --json --limit 50").splitlines()
                                       if line.startswith("{")]
    verdicts = {s["window_end"][:10]: s["verdict"] for s in summaries}
    assert len(verdicts) == 13 and "data_invalid" not in verdicts.values()
    assert verdicts["2014-05-12"] == "drift"  # the southern winter sets in: the logged model's RMSE doubles
    may = {s["window_end"][:10]: (s["performance"]["value"], s["performance"]["reference"]) for s in summaries
           if "2014-05-05" <= s["window_end"] < "2014-05-13"}
    assert len(may) == 2 and all(value > 1.5 * reference for value, reference in may.values()), may

    # from the promotion on, the replay scores each week with the new champion (the log holds v1's forecasts)
    scored = {r["window_end"].date().isoformat(): r["scored_by"] for r in window_runs(open_store(), MODEL)}
    assert {scored[end] for end in scored if end <= "2014-05-12"} == {None}  # v1 is known by its log
    assert {scored[end] for end in scored if "2014-05-12" < end <= "2014-06-30"} == {2}
    bought = re.search(r"served (\d+\.\d+) vs never retrained (\d+\.\d+)", outputs["backfill"])
    assert bought and float(bought[1]) < float(bought[2]), outputs["backfill"][-600:]  # rmse: lower is better

    store = open_store()
    requests = requests_of(store, MODEL)
    finished = [r for r in requests if r["status"] in ("promoted", "rejected")]
    assert finished, requests  # backfill --actions ran each accepted retrain in process, before the next week
    from tasks.registry.events import events_of

    decisions = json.dumps([requests, events_of(store, MODEL)], default=str)
    assert "no champion to beat" not in decisions  # gated against the logged model's own score


@flow(name="train")
def train_flow() -> None:
    """A user's own training flow, deployed as train/load-forecast."""


def test_check_asks_the_prefect_api_for_the_training_deployment(driftflow_home: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """With a Prefect API configured, a `retraining.deployment` that does not exist is a problem; once it is
    deployed, check passes."""
    import sqlalchemy as sa

    from tasks.onboarding.check import check_project
    from tasks.onboarding.init import init_model
    from tests.unit.test_onboarding import END, START, hourly_log

    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(tmp_path / "project"))
    driftflow_home.mkdir(parents=True, exist_ok=True)
    hourly_log().to_sql("readings", sa.create_engine(f"sqlite:///{driftflow_home / 'warehouse.db'}"), index=False)
    init_model("load-forecast", table="readings", sql=None, reference_start=START, reference_end=END)
    path = tmp_path / "project" / "deployments" / "models" / "load-forecast.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["retraining"] = {"deployment": "train/load-forecast", "train_window": "28d"}
    path.write_text(yaml.safe_dump(raw))
    [problem] = check_project(offline=False)[0]
    assert problem.startswith(f"{path}: retraining.deployment 'train/load-forecast': no such deployment on the "
                              "Prefect API")
    train_flow.to_deployment(name="load-forecast").apply()
    assert check_project(offline=False) == ([], 1)
