"""The mistakes a new user makes most, each met the way a user meets it: the `driftflow` command in a
subprocess, on a project folder of its own. Each ends the command with one line that names the problem (the
file, field, setting, model or date), and no traceback: the trace goes to the Prefect log, `--debug` shows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import copy_project, seed_monitored

DRIFTFLOW = Path(sys.executable).with_name("driftflow")  # the console script pyproject.toml installs
MODEL = "flights-delay"
ON_SCHEDULE = "2013-02-11T06:00"  # a Monday 06:00: a tick of the model's schedule
CLOSED = "127.0.0.1:1"  # nothing listens there
USAGE_LINES = ("Usage: driftflow ", "Try 'driftflow ")  # Typer's two lines of context for a bad option


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project folder and home with the demo model registered (its reference in the warehouse)."""
    root = tmp_path_factory.mktemp("seeded")
    home = root / "home"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DRIFTFLOW_HOME", str(home))
        monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", f"sqlite:///{home / 'warehouse.db'}")
        monkeypatch.setenv("DRIFTFLOW_STORE_URL", f"sqlite:///{home / 'store.db'}")
        monkeypatch.delenv("DRIFTFLOW_ARTIFACTS", raising=False)
        seed_monitored(copy_project(root, monkeypatch))
    yield root


@dataclass
class Project:
    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "project" / "deployments" / "models" / f"{MODEL}.yaml"

    @property
    def suite(self) -> Path:
        return self.root / "project" / "expectations" / f"{MODEL}.json"

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        raw = yaml.safe_load(self.config.read_text())
        change(raw)
        self.config.write_text(yaml.safe_dump(raw))


@pytest.fixture()
def project(seeded: Path, tmp_path: Path) -> Project:
    """A copy of the seeded project and home; the command runs with its settings and the session's Prefect API."""
    from prefect.settings import PREFECT_API_URL

    root = tmp_path / "user"
    shutil.copytree(seeded, root)
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRIFTFLOW_", "PREFECT_"))}
    env.update(DRIFTFLOW_HOME=str(home), DRIFTFLOW_PROJECT_DIR=str(root / "project"),
               DRIFTFLOW_WAREHOUSE_URL=f"sqlite:///{home / 'warehouse.db'}",
               DRIFTFLOW_STORE_URL=f"sqlite:///{home / 'store.db'}", PREFECT_API_URL=str(PREFECT_API_URL.value()),
               COLUMNS="80")  # the width of a small terminal: a long message must still be one line
    return Project(root, env)


def driftflow(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DRIFTFLOW), *args], env=project.env, cwd=project.root, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


# Each case: what the user got wrong, the command they ran, and the words the message line must hold.

def broken_yaml(p: Project) -> None:
    p.config.write_text(p.config.read_text().replace("  table: flight_predictions", "  table: [flight_predictions"))


def wrong_type(p: Project) -> None:
    p.edit(lambda raw: raw["policy"].update(min_rows="lots"))


def missing_table(p: Project) -> None:
    p.edit(lambda raw: raw["source"].update(table="flight_prediction"))


def missing_column(p: Project) -> None:
    p.edit(lambda raw: raw["columns"]["numeric"].__setitem__(2, "temperature"))


def missing_suite(p: Project) -> None:
    p.suite.unlink()


def not_registered(p: Project) -> None:
    for file in (p.root / "home").glob("store.db*"):
        file.unlink()


def warehouse_down(p: Project) -> None:
    p.env["DRIFTFLOW_WAREHOUSE_URL"] = f"postgresql://monitor:secret@{CLOSED}/warehouse"


def postgres_scheme(p: Project) -> None:
    p.env["DRIFTFLOW_WAREHOUSE_URL"] = "postgres://monitor:secret@127.0.0.1:5432/warehouse"  # SQLAlchemy: postgresql


def store_down(p: Project) -> None:
    p.env["DRIFTFLOW_STORE_URL"] = f"postgresql://monitor:secret@{CLOSED}/store"


def prefect_down(p: Project) -> None:
    p.env["PREFECT_API_URL"] = f"http://{CLOSED}/api"


def missing_trainer(p: Project) -> None:
    p.edit(lambda raw: raw["retraining"].update(trainer="my_trainers:fit"))


def unknown_zone(p: Project) -> None:
    p.edit(lambda raw: raw["schedule"].update(timezone="Mars/Olympus_Mons"))


def fixed_reference(start: str, end: str) -> Callable[[Project], None]:
    def change(p: Project) -> None:
        p.edit(lambda raw: raw.update(reference={"from": "fixed_window", "start": start, "end": end}))
    return change


def sql_source(sql: str) -> Callable[[Project], None]:
    def change(p: Project) -> None:
        p.edit(lambda raw: raw["source"].update(table=None, sql=sql))
    return change


def mistyped_sqlite_path(p: Project) -> None:
    p.env["DRIFTFLOW_WAREHOUSE_URL"] = f"sqlite:///{p.root / 'home' / 'warehose.db'}"


def missing_function(p: Project) -> None:
    p.edit(lambda raw: raw["retraining"].update(trainer="tasks.retrain.trainers:gradient_boost"))


def unchanged(p: Project) -> None:
    pass


RUN = ("run", "-m", MODEL, "--window-end", ON_SCHEDULE)
CASES = {
    "broken-yaml": (broken_yaml, RUN, [f"{MODEL}.yaml: not valid YAML", "line "]),
    "wrong-field-type": (wrong_type, ("check", "--offline"), [f"{MODEL}.yaml", "policy.min_rows", "integer"]),
    "missing-table": (missing_table, ("check",), [f"{MODEL}.yaml", "source.table", "'flight_prediction' does not "
                                                  "exist", "tables: flight_predictions"]),
    "missing-column": (missing_column, ("check",), [f"{MODEL}.yaml", "columns.numeric[2] 'temperature'",
                                                    "no such column"]),
    "unknown-model": (unchanged, ("run", "-m", "nope", "--window-end", ON_SCHEDULE),
                      ["nope.yaml: no such model configuration", f"known models: {MODEL}"]),
    "impossible-date": (unchanged, ("run", "-m", MODEL, "--window-end", "2024-13-45"),
                        ["--window-end", "'2024-13-45' is not an ISO date"]),
    "words-for-a-date": (unchanged, ("backfill", "-m", MODEL, "--start", "yesterday", "--end", ON_SCHEDULE),
                         ["--start", "'yesterday' is not an ISO date"]),
    "off-schedule": (unchanged, ("run", "-m", MODEL, "--window-end", "2013-02-12T06:00"),
                     ["2013-02-12T06:00:00Z is not on the schedule", "schedule.cron '0 6 * * 1'",
                      "2013-02-11T06:00:00Z"]),
    "missing-suite": (missing_suite, ("check", "--offline"), ["validation.suite 'flights-delay'",
                                                             f"{MODEL}.json: no such expectation suite"]),
    "not-registered": (not_registered, RUN, ["no reference snapshot yet", f"driftflow register {MODEL}"]),
    "warehouse-down": (warehouse_down, ("check",), ["warehouse postgresql://monitor:***@127.0.0.1:1/warehouse "
                                                    "unavailable", "DRIFTFLOW_WAREHOUSE_URL"]),
    "postgres-scheme": (postgres_scheme, ("check",), ["DRIFTFLOW_WAREHOUSE_URL: postgres://monitor:***@",
                                                      "no database driver for 'postgres://'", "postgresql://"]),
    "store-down": (store_down, ("status", "-m", MODEL), ["store postgresql://monitor:***@127.0.0.1:1/store "
                                                         "unavailable", "DRIFTFLOW_STORE_URL"]),
    "prefect-down": (prefect_down, RUN, [f"Prefect API at http://{CLOSED}/api does not answer", "PREFECT_API_URL"]),
    "missing-trainer": (missing_trainer, ("check",), ["retraining.trainer 'my_trainers:fit' cannot be loaded",
                                                      "No module named 'my_trainers'"]),
    "unknown-time-zone": (unknown_zone, ("check", "--offline"), ["schedule.timezone", "Mars/Olympus_Mons"]),
    "unparseable-reference-date": (fixed_reference("2013-02-30", "2013-03-10"), ("check", "--offline"),
                                   ["reference.start", "2013-02-30"]),
    # 06:00 at +05:00 is 01:00 UTC, before the start: the offset is kept, so the dates are reversed
    "offset-kept": (fixed_reference("2013-01-07T04:00:00Z", "2013-01-07T06:00:00+05:00"), ("check", "--offline"),
                    ["reference", "2013-01-07T04:00:00+00:00 is not before end 2013-01-07T01:00:00+00:00"]),
    "sql-syntax-error": (sql_source("SELEC * FROM flight_predictions"), ("check",), ["source.sql", "syntax"]),
    "mistyped-sqlite-path": (mistyped_sqlite_path, ("check",), ["DRIFTFLOW_WAREHOUSE_URL", "warehose.db"]),
    "missing-trainer-function": (missing_function, ("check",), ["retraining.trainer",
                                                                "tasks.retrain.trainers:gradient_boost"]),
    "markup-in-a-name": (unchanged, ("run", "-m", "[/bold]rain", "--window-end", ON_SCHEDULE),
                         ["[/bold]rain"]),
    "missing-model-file": (unchanged, ("register", MODEL, "--file", "model.joblib", "--reference-start",
                                       "2013-01-07T06:00", "--reference-end", "2013-02-04T06:00"),
                           ["model.joblib: no such model file"]),
}


def assert_no_traceback(output: str) -> None:
    for trace in ("Traceback", 'File "', "site-packages", "╭", "| ERROR"):
        assert trace not in output, f"{trace!r} on the terminal:\n{output}"


def message_line(output: str) -> str:
    """The one line the error prints; any other line is Typer's usage context."""
    lines = [line for line in output.splitlines() if line.strip()]
    problems = [line for line in lines if line.startswith(("error: ", "Error: ", "✗ "))]
    assert len(problems) == 1, f"not one message line:\n{output}"
    assert all(line in problems or line.startswith(USAGE_LINES) for line in lines), f"more than a message:\n{output}"
    return problems[0]


@pytest.mark.parametrize("case", list(CASES))
def test_a_common_mistake_ends_with_one_line_naming_it(project: Project, case: str) -> None:
    """The command fails (non-zero), prints no traceback nor Prefect's logs, and its one line names the problem."""
    mistake, args, words = CASES[case]
    mistake(project)
    done = driftflow(project, *args)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert_no_traceback(output)
    line = message_line(output)
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"


def test_debug_shows_the_traceback_the_terminal_is_spared(project: Project) -> None:
    """`--debug` prints the error's traceback (and Prefect's logs of the failed run), then the same one line."""
    not_registered(project)
    done = driftflow(project, "--debug", *RUN)
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "Traceback" in output and "NoReferenceError" in output
    assert "load_reference" in output  # the frame that raised it
    last = [line for line in output.splitlines() if line.strip()][-1]
    assert last.startswith("error: ") and "no reference snapshot yet" in last


def test_a_colon_inside_a_sql_string_is_text_not_a_bind_parameter(project: Project) -> None:
    """`':b'` in a string literal of source.sql is part of the text: check passes and the window is measured."""
    sql_source("SELECT * FROM flight_predictions WHERE dest <> 'X:b'")(project)
    checked = driftflow(project, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    done = driftflow(project, *RUN, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"verdict"' in done.stdout
