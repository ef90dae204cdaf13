"""`driftflow register`: make an existing model the champion, with its reference and baseline.

Three forms, one path:
- `logged`: the serving system logs predictions and there is no artifact. The reference is a named window of
  the inference log and the baseline is the logged predictions' score on its labelled rows. A challenger
  retrained later is gated against the logged predictions on its own holdout rows.
- `file`: a `.joblib` or `.skops` file; it scores the reference window itself (its output is compared with
  the logged predictions, so a file that is not the model that served the log is noticed).
- `mlflow`: a `models:/name@alias` URI, pinned to the version the alias names now.

Registering is idempotent: the same form, source and window registered again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa

from tasks.config import ModelConfig
from tasks.errors import MissingColumnsError, ModelFileError, NoReferenceError
from tasks.metrics import labelled_predictions, score
from tasks.registry.model_files import checksum, copy_model_file, read_model_file
from tasks.registry.references import LOG_WINDOW, reference_window
from tasks.registry.versions import NewVersion, VersionKind, register_version, versions
from tasks.retrain.trainers import predict
from tasks.store.schema import reference_snapshots

Form = Literal["logged", "file", "mlflow"]
TOLERANCE = 1e-6  # a model's output and the logged prediction count as the same below this


@dataclass(frozen=True)
class Registration:
    """What `register` did (or found already done), in numbers a user can check."""

    model: str
    version: int
    kind: str
    created: bool
    reference_version: str
    reference_rows: int
    baseline: float | None
    baseline_rows: int
    metric: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "kind": self.kind, "created": self.created,
                "reference_version": self.reference_version, "reference_rows": self.reference_rows,
                "baseline": self.baseline, "baseline_rows": self.baseline_rows, "metric": self.metric,
                "notes": self.notes}


@dataclass(frozen=True)
class _Source:
    kind: VersionKind
    uri: str
    estimator: Any = None
    file: Path | None = None


def register_model(store: sa.Engine, config: ModelConfig, *, reference_start: datetime, reference_end: datetime,
                   logged: bool = False, file: Path | None = None, mlflow_uri: str | None = None,
                   trained_to: datetime | None = None, force: bool = False,
                   warehouse: str | None = None) -> Registration:
    """Make the model named by exactly one of `logged`, `file` or `mlflow_uri` the champion of `config`.

    The reference is [reference_start, reference_end) of the inference log. The baseline is measured on its
    labelled rows from `trained_to` on, when given: a model scored on rows it was trained on looks better than
    it is, and every later window would then look like a drop. `warehouse`: a URL other than the settings'.
    """
    if sum([logged, file is not None, mlflow_uri is not None]) != 1:
        raise ModelFileError("give exactly one of --logged, --file PATH or --mlflow models:/name@alias")
    if reference_start >= reference_end:
        raise NoReferenceError(f"{config.name}: the reference window starts ({reference_start:%Y-%m-%d %H:%M}) "
                               f"at or after its end ({reference_end:%Y-%m-%d %H:%M})")
    if trained_to is not None and trained_to >= reference_end:
        raise NoReferenceError(f"{config.name}: --trained-to {trained_to:%Y-%m-%d %H:%M} leaves no reference rows "
                               "the model did not train on to measure its baseline")
    source = _source(config, logged, file, mlflow_uri)
    existing = _already_registered(store, config.name, source, reference_start, reference_end)
    if existing is not None and not force:
        return existing
    data = _reference_rows(config, reference_start, reference_end, warehouse)
    notes = _notes(config, source)
    if source.estimator is not None:
        notes += _score_with(config, data, source.estimator)
    baseline, baseline_rows, baseline_notes = _baseline(config, data, trained_to)
    notes += baseline_notes
    label = {"logged": "logged predictions", "file": "model file", "mlflow": "MLflow model"}[source.kind]
    artifact = str(copy_model_file(config.name, "registered", source.file)) if source.file else None
    baseline_from = max(reference_start, trained_to) if trained_to else reference_start
    version = register_version(store, config, NewVersion(
        kind=source.kind, status="champion", event="registered", window_end=reference_end,
        reason=f"registered ({label}: {source.uri}); reference [{reference_start:%Y-%m-%d %H:%M}, "
               f"{reference_end:%Y-%m-%d %H:%M})",
        reference=data, reference_start=reference_start, reference_end=reference_end, reference_kind=LOG_WINDOW,
        baseline=baseline, holdout_from=baseline_from, holdout_to=reference_end, metric=config.performance.metric,
        trained_to=trained_to, estimator=source.estimator if artifact is None else None, artifact_path=artifact,
        source_uri=source.uri, trainer=_trainer(config)))
    return Registration(config.name, version, source.kind, True, f"v{version}", len(data), baseline, baseline_rows,
                        config.performance.metric, notes)


def _source(config: ModelConfig, logged: bool, file: Path | None, mlflow_uri: str | None) -> _Source:
    if logged:
        where = config.source.table or "source.sql"
        return _Source("logged", f"log:{where}.{config.columns.prediction}")
    if file is not None:
        path = file.expanduser().resolve()
        estimator = read_model_file(path)
        return _Source("file", f"{path}#sha256={checksum(path)}", estimator, path)
    from tasks.registry.mlflow_models import load_mlflow_model

    estimator, resolved = load_mlflow_model(str(mlflow_uri))
    return _Source("mlflow", f"{resolved} (from {mlflow_uri})", estimator)


def _already_registered(store: sa.Engine, model: str, source: _Source, start: datetime,
                        end: datetime) -> Registration | None:
    """The version this exact registration made before, if any (same kind, source and reference window)."""
    for row in reversed(versions(store, model)):
        if row["kind"] != source.kind or not _same_source(row["source_uri"], source):
            continue
        with store.connect() as conn:
            ref = conn.execute(sa.select(reference_snapshots).where(
                reference_snapshots.c.model == model, reference_snapshots.c.model_version == row["version"])).first()
        if ref is None or reference_window(dict(ref._mapping)) != (start, end):
            continue
        notes = [] if row["status"] == "champion" else [
            f"v{row['version']} was registered from this source and window before and is {row['status']} now; "
            "nothing changed (--force registers it again as a new champion)"]
        return Registration(model, int(row["version"]), str(row["kind"]), False, str(ref.version), int(ref.rows),
                            ref.performance, 0, str(row["metric"]), notes)
    return None


def _same_source(stored: str | None, source: _Source) -> bool:
    if source.kind == "file":  # the same bytes, wherever the file lies now
        return stored is not None and stored.split("#sha256=")[-1] == source.uri.split("#sha256=")[-1]
    if source.kind == "mlflow":  # the same pinned version
        return stored is not None and stored.split(" ")[0] == source.uri.split(" ")[0]
    return stored == source.uri


def _reference_rows(config: ModelConfig, start: datetime, end: datetime, warehouse: str | None) -> pd.DataFrame:
    from tasks.source.query import read_range

    data = read_range(config, config.monitored_columns, start, end, warehouse)
    where = config.source.table or "source.sql"
    if data.empty:
        raise NoReferenceError(f"{config.name}: the reference window [{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) "
                               f"of {where} has no rows")
    return data


def _score_with(config: ModelConfig, data: pd.DataFrame, estimator: Any) -> list[str]:
    """Replace the reference's predictions with the model's own; say if they differ from the logged ones."""
    missing = [c for c in config.columns.features if c not in data]
    if missing:
        raise MissingColumnsError(f"{config.name}: the reference rows lack feature column(s) {', '.join(missing)}")
    try:
        output = predict(estimator, data, config)
    except Exception as exc:
        raise ModelFileError(f"{config.name}: the model cannot score the reference rows with columns.numeric and "
                             f"columns.categorical as features ({type(exc).__name__}: {exc})") from exc
    column = config.columns.prediction
    notes = []
    if column in data:
        logged = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
        both = ~np.isnan(logged) & ~np.isnan(output)
        differ = int(np.sum(np.abs(logged[both] - output[both]) > TOLERANCE))
        if differ:
            notes.append(f"the model's output differs from the logged {column} on {differ} of {int(both.sum())} "
                         "rows: is this the model that served the log? The baseline is the model's own output")
    data[column] = output
    return notes


def _baseline(config: ModelConfig, data: pd.DataFrame, trained_to: datetime | None
              ) -> tuple[float | None, int, list[str]]:
    ts, target, prediction = config.source.timestamp, config.columns.target.column, config.columns.prediction
    if prediction not in data:
        raise MissingColumnsError(f"{config.name}: the reference rows lack the prediction column {prediction!r} "
                                  "(columns.prediction)")
    rows = labelled_predictions(data, target, prediction)
    if trained_to is not None:
        rows = rows[rows[ts] >= trained_to]
    if rows.empty:
        return None, 0, ["no labelled rows in the reference window: no baseline, so no concept drift until a "
                         "champion with one is registered"]
    value = score(config.performance.metric, rows[target], pd.to_numeric(rows[prediction]))
    notes = []
    if len(rows) < config.performance.min_labelled_rows:
        notes.append(f"baseline from only {len(rows)} labelled rows (performance.min_labelled_rows is "
                     f"{config.performance.min_labelled_rows})")
    return value, len(rows), notes


def _notes(config: ModelConfig, source: _Source) -> list[str]:
    if config.retraining is None:
        return ["no retraining section: monitored, never retrained"]
    if source.kind == "logged":
        return ["retrained challengers will be gated against the logged predictions on their holdout rows"]
    return []


def _trainer(config: ModelConfig) -> str | None:
    if config.retraining is None:
        return None
    return config.retraining.trainer or (f"deployment:{config.retraining.deployment}"
                                         if config.retraining.deployment else None)
