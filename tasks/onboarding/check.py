"""`driftflow check`: every model configuration and the suite it names, with one message per problem.

Offline, only the files are read (syntax, fields, suites). Connected (the command's default), each model is
also checked against its source, its trainer or training deployment: see `connected.py`.
"""

from __future__ import annotations

from pathlib import Path

from tasks.config import ConfigError, load_model_config
from tasks.monitor.suites import check_suite, suite_path
from tasks.settings import models_dir


def check_project(directory: Path | None = None, *, offline: bool = True,
                  notes: list[str] | None = None) -> tuple[list[str], int]:
    """Problems found (each naming its file and field) and how many configurations were read.

    `offline=False` also runs the source, checks every configured and suite column and the trainer; what
    could not be checked is appended to `notes` when a list is given.
    """
    folder = directory or models_dir()
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not paths:
        return [f"{folder}: no model configurations (*.yaml) found"], 0
    problems = []
    for path in paths:
        try:
            config = load_model_config(path.stem, folder)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        suite_problems = [f"{path}: validation.suite {config.validation.suite!r}: {p}"
                          for p in check_suite(config.validation.suite)]
        problems += suite_problems
        if not offline:
            from tasks.onboarding.connected import check_connected

            found, said = check_connected(config, path, suite_path(config.validation.suite))
            problems += found
            if notes is not None:
                notes += said
    return problems, len(paths)
