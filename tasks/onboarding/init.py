"""`driftflow init`: a model's YAML and expectation suite, proposed from its source and a reference window.

The order matters: roles from a sample of the source, a YAML that the monitor's own loader accepts, the
reference window read the way the monitor reads windows, then the suite and `policy.min_rows` from what the
reference shows. Nothing is written until everything has been built, and nothing existing is overwritten
unless asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from tasks.config import ConfigError, parse_model_config
from tasks.config.model import MODEL_NAME
from tasks.errors import SourceError
from tasks.onboarding.introspect import describe, introspect_source
from tasks.onboarding.roles import Overrides, Roles, propose_roles
from tasks.onboarding.scaffold import BUILT_IN_TRAINER, Scaffold, default_cron, model_yaml
from tasks.onboarding.suite_profile import holdout_rows_for, min_rows_for, profile_suite, window_counts
from tasks.settings import expectations_dir, models_dir, warehouse_url
from tasks.source.query import read_range


@dataclass
class InitResult:
    model: str
    config_path: Path
    suite_path: Path
    roles: Roles
    reference_rows: int
    window_counts: list[int]
    expectations: int
    notes: list[str] = field(default_factory=list)


def init_model(model: str, *, table: str | None, sql: str | None, reference_start: datetime,
               reference_end: datetime, overrides: Overrides = Overrides(), window: str = "7d",
               cron: str | None = None, label_delay: str = "0d", trainer: str | None = None,
               monitor_only: bool = False, force: bool = False, url: str | None = None) -> InitResult:
    """Write `deployments/models/<model>.yaml` and `expectations/<model>.json`; refuse to overwrite without force."""
    if not MODEL_NAME.match(model):
        raise ConfigError(f"model name {model!r} must be lowercase letters, digits and dashes")
    if (table is None) == (sql is None):
        raise ConfigError("give exactly one of --table or --sql")
    if reference_start >= reference_end:
        raise ConfigError(f"--reference-start {reference_start.isoformat()} is not before --reference-end "
                          f"{reference_end.isoformat()}")
    config_path, suite_path = models_dir() / f"{model}.yaml", expectations_dir() / f"{model}.json"
    existing = [str(p) for p in (config_path, suite_path) if p.exists()]
    if existing and not force:
        raise ConfigError(f"{' and '.join(existing)} already exist(s); edit them, or pass --force to write them "
                          "again")
    url = url or warehouse_url()
    source = introspect_source(url, table, sql)
    roles = propose_roles(source, overrides)
    scaffold = Scaffold(model=model, table=table, sql=sql, window=window, cron=cron or default_cron(window),
                        label_delay=label_delay, trainer=None if monitor_only else (trainer or BUILT_IN_TRAINER),
                        reference_start=reference_start, reference_end=reference_end)
    config = parse_model_config(model_yaml(roles, scaffold), f"{config_path} (as proposed by init)")
    reference = read_range(config, config.monitored_columns, reference_start, reference_end, url)
    if reference.empty:
        raise SourceError(f"{describe(table, sql)} has no rows with {roles.timestamp} in the reference window "
                          f"[{reference_start.isoformat()}, {reference_end.isoformat()}): name a window of the log")
    counts = window_counts(config, reference[config.source.timestamp], reference_start, reference_end)
    holdout_rows = holdout_rows_for(len(reference), reference_end - reference_start, config.retraining.holdout) \
        if config.retraining else 200
    scaffold = replace(scaffold, min_rows=min_rows_for(counts), min_holdout_rows=holdout_rows)
    text = model_yaml(roles, scaffold)
    config = parse_model_config(text, str(config_path))
    suite = profile_suite(config, reference, counts, reference_start, reference_end)
    notes = _notes(roles, counts, config.task)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    suite_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(text)
    suite_path.write_text(json.dumps(suite, indent=2) + "\n")
    return InitResult(model, config_path, suite_path, roles, len(reference), counts, len(suite["expectations"]),
                      notes)


def _notes(roles: Roles, counts: list[int], task: str) -> list[str]:
    notes = []
    if roles.skipped:
        notes.append(f"given no role (not monitored): {', '.join(roles.skipped)}")
    if roles.context:
        notes.append(f"context (trained on and validated, drift not scored): {', '.join(roles.context)}")
    if len(counts) < 4:
        notes.append(f"the reference holds {len(counts)} whole window(s); thresholds are calibrated from 4 or more "
                     "(a longer reference, or fixed thresholds)")
    if task == "multiclass":
        notes.append("multiclass: list each class's probability column under columns.probabilities, or log the "
                     "predicted label as the prediction")
    return notes
