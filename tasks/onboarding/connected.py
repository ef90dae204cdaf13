"""`driftflow check` against the real parts: the source runs, its columns fit the YAML, the trainer imports.

Each problem is one line naming the file and the field, e.g.
`deployments/models/x.yaml: columns.numeric[2] 'tmp': no such column in table weather`. What cannot be
checked here (a training deployment with no Prefect API configured) is said as a note, never passed silently.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.config import ModelConfig
from tasks.errors import DriftflowError, TrainerError
from tasks.onboarding.introspect import ColumnInfo, SourceInfo, introspect_source, parses_as_time
from tasks.settings import warehouse_url

SAMPLE_ROWS = 1000
NUMERIC_KINDS = ("numeric", "integer", "boolean", "unknown")  # unknown: all NULL in the sample, judged later


def check_connected(config: ModelConfig, path: Path, suite_path: Path, url: str | None = None) -> tuple[
        list[str], list[str]]:
    """Problems (each naming file and field) and notes for one model, checked against its source."""
    problems: list[str] = []
    notes: list[str] = []
    try:
        source = introspect_source(url or warehouse_url(), config.source.table, config.source.sql, SAMPLE_ROWS)
    except DriftflowError as exc:
        field = "source.table" if config.source.table else "source.sql"
        return [f"{path}: {field}: {exc}"], notes
    problems += [f"{path}: {p}" for p in column_problems(config, source)]
    problems += [f"{path}: {p}" for p in label_problems(config, source)]
    problems += [f"{suite_path}: {p}" for p in suite_column_problems(suite_path, source)]
    trainer_problems, trainer_notes = retraining_problems(config)
    problems += [f"{path}: {p}" for p in trainer_problems]
    notes += [f"{path}: {n}" for n in trainer_notes]
    return problems, notes


def configured_columns(config: ModelConfig) -> list[tuple[str, str, str]]:
    """(field, column, what it must be) for every column the YAML names."""
    src, cols = config.source, config.columns
    fields = [("source.timestamp", src.timestamp, "time"), ("source.id", src.id, "any")]
    if src.model_version:
        fields.append(("source.model_version", src.model_version, "any"))
    fields += [(f"columns.numeric[{i}]", c, "numeric") for i, c in enumerate(cols.numeric)]
    fields += [(f"columns.categorical[{i}]", c, "any") for i, c in enumerate(cols.categorical)]
    fields.append(("columns.prediction", cols.prediction,
                   "any" if config.task == "multiclass" else "numeric"))
    fields += [(f"columns.probabilities.{k}", c, "numeric") for k, c in cols.probabilities.items()]
    fields.append(("columns.target.column", cols.target.column, "numeric" if config.task == "regression" else "any"))
    return fields


def column_problems(config: ModelConfig, source: SourceInfo) -> list[str]:
    """Every configured column exists with a usable type; the timestamp parses."""
    problems = []
    for field, name, need in configured_columns(config):
        column = source.column(name)
        if column is None:
            problems.append(f"{field} {name!r}: no such column in {source.where}")
        elif need == "numeric" and column.kind not in NUMERIC_KINDS:
            hint = "; list it under columns.categorical" if field.startswith("columns.numeric") else ""
            problems.append(f"{field} {name!r}: not numeric in {source.where} (its values are {column.kind}, "
                            f"e.g. {_example(source.sample[name])!r}){hint}")
        elif need == "time" and not _is_time(column, source.sample[name]):
            problems.append(f"{field} {name!r}: does not parse as a date or date-time (e.g. "
                            f"{_example(source.sample[name])!r}); store ISO times like 2024-01-31 06:00:00")
    return problems


def label_problems(config: ModelConfig, source: SourceInfo) -> list[str]:
    """Targets and predictions that do not fit the task: multiclass labels under a binary task, and so on."""
    cols, sample = config.columns, source.sample
    if cols.target.column not in sample or cols.prediction not in sample:
        return []
    labels = sample[cols.target.column].dropna()
    predictions = sample[cols.prediction].dropna()
    if config.task == "classification":
        problems = []
        if labels.nunique() > 2:
            problems.append(f"columns.target.column {cols.target.column!r}: {labels.nunique()} classes in the "
                            "sample, but task is classification (binary); use task: multiclass with "
                            "columns.probabilities (a column per class) or a label prediction")
        numbers = pd.to_numeric(predictions, errors="coerce")
        if len(numbers) and (numbers.isna().any() or numbers.min() < 0 or numbers.max() > 1):
            problems.append(f"columns.prediction {cols.prediction!r}: a binary classifier's prediction must be the "
                            "logged probability P(positive), in [0, 1]")
        return problems
    if config.task == "multiclass" and not cols.probabilities:
        unknown = sorted({str(v) for v in predictions} - {str(v) for v in labels})
        if unknown and len(labels):
            return [f"columns.prediction {cols.prediction!r}: a multiclass model needs columns.probabilities (a "
                    "column per class) or a prediction holding the predicted label; values such as "
                    f"{', '.join(unknown[:3])} are not labels of {cols.target.column!r}"]
    return []


def suite_column_problems(suite_path: Path, source: SourceInfo) -> list[str]:
    """Every column an expectation names exists in the source."""
    try:
        raw = json.loads(suite_path.read_text())
    except (OSError, ValueError):
        return []  # the syntax check has already said why
    problems = []
    for i, item in enumerate(raw.get("expectations", []) if isinstance(raw, dict) else []):
        if not isinstance(item, dict):
            continue
        for name in _suite_columns(item.get("kwargs") or {}):
            if source.column(name) is None:
                problems.append(f"expectations[{i}] ({item.get('type', '?')}): column {name!r}: no such column in "
                                f"{source.where}")
    return problems


def retraining_problems(config: ModelConfig) -> tuple[list[str], list[str]]:
    """The trainer imports with the documented signature, or the training deployment exists."""
    retraining = config.retraining
    if retraining is None:
        return [], []
    if retraining.trainer:
        from tasks.retrain.trainers import load_trainer

        try:
            load_trainer(retraining.trainer)
        except TrainerError as exc:
            return [str(exc)], []
        return [], []
    return deployment_problems(retraining.deployment or "")


def deployment_problems(name: str) -> tuple[list[str], list[str]]:
    """Whether the Prefect deployment exists; only asked when a Prefect API is configured."""
    api = os.environ.get("PREFECT_API_URL") or _configured_api()
    if not api:
        return [], [f"retraining.deployment {name!r} not checked: no Prefect API configured (PREFECT_API_URL)"]
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        return [f"retraining.deployment {name!r}: no such deployment on the Prefect API at {api} (deploy the "
                "training flow first: `prefect deploy`)"], []
    except Exception as exc:  # an unreachable API is a note, not a verdict on the YAML
        return [], [f"retraining.deployment {name!r} not checked: the Prefect API at {api} did not answer "
                    f"({type(exc).__name__})"]
    return [], []


def _configured_api() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def _suite_columns(kwargs: dict[str, Any]) -> list[str]:
    names = [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)]
    names += [c for c in kwargs.get("column_list") or [] if isinstance(c, str)]
    return names


def _is_time(column: ColumnInfo, values: pd.Series) -> bool:
    return column.kind in ("time", "unknown") or parses_as_time(values)


def _example(values: pd.Series) -> Any:
    present = values.dropna()
    return present.iloc[0] if len(present) else None
