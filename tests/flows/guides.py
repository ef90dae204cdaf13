"""Running a guide of docs/ as written: its code blocks, its `driftflow` commands, a fresh project folder."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner


def blocks(guide: Path, kind: str) -> list[str]:
    """The guide's fenced blocks of one kind (`bash`, `python`), in order."""
    return re.findall(rf"```{kind}\n(.*?)```", guide.read_text(), flags=re.DOTALL)


def guide_commands(guide: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Every `driftflow …` line of the guide's bash blocks, in order, but those starting with `skip`."""
    lines = [line.strip() for block in blocks(guide, "bash") for line in block.splitlines()]
    return [line for line in lines if line.startswith("driftflow ") and not (skip and line.startswith(skip))]


def invoke(command: str) -> str:
    """Run one `driftflow …` line in process; it must succeed."""
    from flows.cli import app

    result = CliRunner().invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, f"{command}\n{result.output}"
    return result.output


def project_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A guide's section 1: a fresh project folder, the working directory, with its own SQLite warehouse."""
    folder.mkdir()
    monkeypatch.setenv("DRIFTFLOW_PROJECT_DIR", str(folder))
    monkeypatch.setenv("DRIFTFLOW_WAREHOUSE_URL", f"sqlite:///{folder / 'warehouse.db'}")
    monkeypatch.chdir(folder)
    return folder


def run_loader(guide: Path, project: Path, script: str) -> str:
    """Write the guide's Python block to `script` in the project folder and run it there; returns its output."""
    import os
    import subprocess
    import sys

    [loader] = blocks(guide, "python")
    (project / script).write_text(loader)
    loaded = subprocess.run([sys.executable, script], cwd=project, env=dict(os.environ), capture_output=True,
                            text=True, timeout=600)
    assert loaded.returncode == 0, loaded.stderr
    return loaded.stdout
