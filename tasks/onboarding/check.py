"""`driftflow check`: every model configuration and the suite it names, with one message per problem."""

from __future__ import annotations

from pathlib import Path

from tasks.config import ConfigError, load_model_config
from tasks.monitor.suites import check_suite
from tasks.settings import models_dir


def check_project(directory: Path | None = None) -> tuple[list[str], int]:
    """Problems found (each naming its file and field) and how many configurations were read."""
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
        problems += [f"{path}: validation.suite {config.validation.suite!r}: {p}"
                     for p in check_suite(config.validation.suite)]
    return problems, len(paths)
