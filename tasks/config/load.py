"""Reading `deployments/models/<model>.yaml` into a ModelConfig, with errors that name file and field."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from tasks.config.model import ModelConfig
from tasks.errors import ConfigError
from tasks.settings import models_dir


def _describe(error: ValidationError) -> str:
    """Each failing field and what is wrong with it, on one line: `a.b: message; c: message`."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = " ".join(item["msg"].removeprefix("Value error, ").split())
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


def yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's several-line report as one line: what is wrong, and where."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"{error.problem or error.context or type(error).__name__}{where}"
    return " ".join(str(error).split())


def parse_model_config(text: str, source: str) -> ModelConfig:
    """Parse YAML text into a ModelConfig; errors name `source` and the failing fields."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    try:
        return ModelConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid configuration: {_describe(exc)}") from None


def config_path(model: str, directory: Path | None = None) -> Path:
    return (directory or models_dir()) / f"{model}.yaml"


def load_model_config(model: str, directory: Path | None = None) -> ModelConfig:
    """Load `deployments/models/<model>.yaml`; the file's `name` must match the file name."""
    path = config_path(model, directory)
    if not path.is_file():
        known = ", ".join(list_models(directory)) or "none"
        raise ConfigError(f"{path}: no such model configuration (known models: {known})")
    config = parse_model_config(path.read_text(), str(path))
    if config.name != model:
        raise ConfigError(f"{path}: name: {config.name!r} does not match the file name {model!r}")
    return config


def list_models(directory: Path | None = None) -> list[str]:
    folder = directory or models_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
