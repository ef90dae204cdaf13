"""The model YAML `driftflow init` writes: every section present, each default said in a comment next to it.

The text is written by hand (not dumped) so that the comments survive; it is parsed back through the same
loader the monitor uses before it is written, so `init` never leaves a file that `check` refuses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from tasks.onboarding.roles import Roles

METRIC = {"classification": "roc_auc", "regression": "rmse", "multiclass": "accuracy"}
# A schedule for each usual window: a window ends at each tick of the cron.
CRONS = {"1d": "0 0 * * *", "7d": "0 0 * * 1", "1w": "0 0 * * 1", "1mo": "0 0 1 * *", "1y": "0 0 1 1 *",
         "tick": "0 0 1 * *"}
# Training and holdout lengths per window: a few windows to learn from, about one to judge on.
TRAINING = {"1d": ("28d", "7d"), "7d": ("28d", "7d"), "1w": ("28d", "7d"), "1mo": ("180d", "30d"),
            "tick": ("180d", "30d"), "1y": ("730d", "180d")}
BUILT_IN_TRAINER = "tasks.retrain.trainers:gradient_boosting"


@dataclass(frozen=True)
class Scaffold:
    """What `init` decided besides the roles."""

    model: str
    table: str | None
    sql: str | None
    window: str
    cron: str
    label_delay: str = "0d"
    min_rows: int = 500
    min_holdout_rows: int = 200
    trainer: str | None = BUILT_IN_TRAINER  # None: a monitor-only model
    reference_start: datetime | None = None
    reference_end: datetime | None = None


def default_cron(window: str) -> str:
    return CRONS.get(window, "0 0 * * *")


def _list(values: list[str]) -> str:
    return "[" + ", ".join(values) + "]"


def model_yaml(roles: Roles, s: Scaffold) -> str:
    """The commented YAML of a monitored model."""
    where = f"  table: {s.table}" if s.table else f"  sql: {json.dumps(s.sql)}"
    metric = METRIC[roles.task]
    labelled = min(200, s.min_rows)
    reference = ""
    if s.reference_start and s.reference_end:
        reference = (f"  # the suite was profiled on [{s.reference_start.isoformat()}, {s.reference_end.isoformat()})"
                     "\n  # register the champion on the same window\n")
    lines = [
        f"# {s.model}: written by `driftflow init`.",
        f"# Edit it, then `driftflow register {s.model}` and `driftflow check`.",
        f"name: {s.model}",
        f"task: {roles.task}                # classification (binary; prediction = P(positive)), regression, "
        "or multiclass",
        "source:                     # the warehouse URL comes from DRIFTFLOW_WAREHOUSE_URL, never from this file",
        where,
        f"  timestamp: {roles.timestamp}       # when each prediction was made: windows are cut on it, [start, end)",
        f"  id: {roles.id}                     # one row per prediction: unique and never NULL",
        "  timezone: UTC             # the zone of timestamps stored without one",
        "columns:",
        f"  numeric: {_list(roles.numeric)}",
        f"  categorical: {_list(roles.categorical)}",
        "  # context: features the model uses (kept for training and validation) whose drift is not scored;",
        "  # calendar columns (hour, weekday, month…) drift by design. Each must also be numeric or categorical.",
        f"  context: {_list(roles.context)}",
        f"  prediction: {roles.prediction}"
        + ("     # for classification: the logged P(positive), a probability in [0, 1]"
           if roles.task == "classification" else ""),
        f"  target: {{column: {roles.target}, label_delay: {s.label_delay}}}   # label_delay: how long after a "
        "prediction its label arrives",
        "schedule:",
        f"  cron: \"{s.cron}\"        # one window ends at each tick (in `timezone`)",
        "  timezone: UTC",
        f"  window: {s.window}                # a length ('7d', '1mo', '1y') or 'tick': since the previous tick",
        "reference:",
        "  from: champion_training_window   # the window `driftflow register` records with the champion",
        *(reference.rstrip("\n").split("\n") if reference else []),
        "validation:",
        f"  suite: {s.model}          # expectations/{s.model}.json, profiled by init from the reference",
        "  on_failure: block         # a failed critical expectation makes the window data_invalid (no retrain)",
        "drift:",
        "  numeric_method: wasserstein",
        "  categorical_method: jensenshannon",
        "  # no `threshold`: each column's threshold is calibrated, learned from the reference cut into",
        "  # window-sized chunks (the p99 of their scores); set `threshold: 0.1` to fix one for every column.",
        "  dataset_share: 0.3        # share of drifted features that makes the dataset drifted",
        "  severity: {features: warn, prediction: warn, target: warn}   # drift alone warns; 'breach' opts in",
        "performance:",
        f"  metric: {metric}",
        "  max_drop: 2sd             # allowed drop: twice the metric's spread over the reference's chunks",
        f"  min_labelled_rows: {labelled}",
        "policy:",
        "  persistence: {breaches: 2, of_last: 3}   # act on 2 breaching windows of the last 3, or on 2+ drops "
        "in a row that their rows pooled confirm",
        "  cooldown: 14d             # no second retrain this soon after one",
        f"  min_rows: {s.min_rows}              # fewer rows in a window: insufficient_data (from the reference's "
        "own window counts)",
    ]
    if s.trainer:
        train_window, holdout = TRAINING.get(s.window, ("28d", "7d"))
        lines += [
            "retraining:                # remove this section for a monitor-only model (verdicts, no retrains)",
            f"  trainer: \"{s.trainer}\"   # module:function(features, target, config) -> estimator",
            f"  train_window: {train_window}",
            f"  holdout: {holdout}             # the challenger and the champion are scored on the same rows",
            f"  promote_if: {{min_gain: 0.0, confidence: 0.9, min_holdout_rows: {s.min_holdout_rows}}}"
            "   # min_holdout_rows: half a holdout's rows in the reference",
        ]
    else:
        lines.append("# no retraining section: a monitor-only model (verdicts and events, never a retrain)")
    return "\n".join(_aligned(line) for line in lines) + "\n"


def _aligned(line: str) -> str:
    """Trailing comments start in one column, so the file reads as a table of settings and their meaning."""
    code, sep, comment = line.partition("   # ") if not line.lstrip().startswith("#") else (line, "", "")
    if not sep:
        code, sep, comment = line.partition("  # ") if not line.lstrip().startswith("#") else (line, "", "")
    if not sep:
        return line
    return f"{code.rstrip():<34} # {comment.strip()}"
