"""`driftflow register`: an existing model becomes the champion with its reference and baseline, in each form.

Real SQLite warehouse and store files, real model files; no Prefect server (the reference loader runs as
`.fn`).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from flows.cli import app
from tasks.config import ModelConfig, load_model_config
from tasks.errors import ModelFileError, NoReferenceError
from tasks.metrics import score
from tasks.registry.events import events_of
from tasks.registry.references import load_reference
from tasks.registry.register import register_model
from tasks.registry.versions import champion, version_baselines, version_of, versions
from tasks.retrain.trainers import predict
from tasks.store.engine import open_store
from tests.factories import flights_batch, quick_model
from tests.support import write_predictions

START = datetime(2013, 1, 7, 6, tzinfo=UTC)
END = START + timedelta(days=21)
TRAINED_TO = START + timedelta(days=14)


@pytest.fixture()
def config(driftflow_home: Path) -> ModelConfig:
    return load_model_config("flights-delay")


@pytest.fixture()
def log(config: ModelConfig) -> pd.DataFrame:
    """Three weeks of an inference log, its predictions logged by the serving system."""
    frame = pd.concat([flights_batch(1500, seed=40 + i, start=START + timedelta(days=7 * i)) for i in range(3)],
                      ignore_index=True)
    write_predictions(frame, replace=True)
    return frame


@pytest.fixture()
def model_file(tmp_path: Path, config: ModelConfig, log: pd.DataFrame) -> Path:
    """A model trained on the log's first two weeks, saved by the user as joblib."""
    train = log[log["scheduled_at"] < TRAINED_TO]
    path = tmp_path / "user" / "model.joblib"
    path.parent.mkdir()
    joblib.dump(quick_model(train, train["arrived_late"], config), path)
    return path


def test_a_logged_model_is_registered_with_its_window_and_the_logs_own_score(config: ModelConfig,
                                                                             log: pd.DataFrame) -> None:
    """Monitor-only: no artifact; the reference is the window's rows, the baseline the logged predictions' score."""
    store = open_store()
    done = register_model(store, config, reference_start=START, reference_end=END, logged=True)
    assert (done.version, done.kind, done.created, done.reference_rows) == (1, "logged", True, len(log))
    assert done.baseline == pytest.approx(score("roc_auc", log["arrived_late"], log["delay_proba"]))
    row = champion(store, config.name)
    assert row is not None and row["kind"] == "logged" and row["artifact_path"] is None
    assert row["trained_from"] is None and row["served_from"] == END
    reference = load_reference.fn(store, config)
    assert (reference.version, len(reference.data), reference.performance) == ("v1", len(log), done.baseline)
    assert reference.data["delay_proba"].tolist() == pytest.approx(log["delay_proba"].tolist())
    assert [(e["event"], e["version"], e["window_end"]) for e in events_of(store, config.name)] == [
        ("registered", 1, END)]


def test_registering_again_changes_nothing(config: ModelConfig, log: pd.DataFrame) -> None:
    """The same form, source and window registered twice: one version, one reference, one event."""
    store = open_store()
    register_model(store, config, reference_start=START, reference_end=END, logged=True)
    again = register_model(store, config, reference_start=START, reference_end=END, logged=True)
    assert (again.version, again.created) == (1, False)
    assert len(versions(store, config.name)) == 1 and len(events_of(store, config.name)) == 1


def test_a_model_file_scores_its_reference_and_its_baseline_leaves_out_its_training_rows(
        config: ModelConfig, log: pd.DataFrame, model_file: Path) -> None:
    """The file's own output replaces the logged predictions in the reference, and the baseline is measured
    on the rows after `trained_to` only; the copy in the artifact store is what the registry keeps."""
    store = open_store()
    done = register_model(store, config, reference_start=START, reference_end=END, file=model_file,
                          trained_to=TRAINED_TO)
    model = joblib.load(model_file)
    unseen = log[log["scheduled_at"] >= TRAINED_TO]
    assert done.kind == "file" and done.baseline_rows == len(unseen)
    assert done.baseline == pytest.approx(score("roc_auc", unseen["arrived_late"], predict(model, unseen, config)))
    assert any("differs from the logged delay_proba" in note for note in done.notes)  # the log was not this model's
    row = champion(store, config.name)
    assert row is not None and row["kind"] == "file" and row["trained_to"] == TRAINED_TO
    stored = Path(row["artifact_path"])
    assert stored != model_file and stored.read_bytes() == model_file.read_bytes()
    assert str(model_file) in row["source_uri"]
    reference = load_reference.fn(store, config)
    assert reference.data["delay_proba"].to_numpy() == pytest.approx(predict(model, log, config))


def test_the_same_file_moved_elsewhere_is_the_same_registration(config: ModelConfig, log: pd.DataFrame,
                                                                 model_file: Path, tmp_path: Path) -> None:
    store = open_store()
    register_model(store, config, reference_start=START, reference_end=END, file=model_file)
    moved = tmp_path / "elsewhere.joblib"
    shutil.copyfile(model_file, moved)
    assert not register_model(store, config, reference_start=START, reference_end=END, file=moved).created


def test_a_new_registration_retires_the_old_champion_and_switches_the_reference(
        config: ModelConfig, log: pd.DataFrame, model_file: Path) -> None:
    store = open_store()
    register_model(store, config, reference_start=START, reference_end=END, logged=True)
    second = register_model(store, config, reference_start=TRAINED_TO, reference_end=END, file=model_file)
    assert second.version == 2
    assert [(v["version"], v["status"], v["kind"]) for v in versions(store, config.name)] == [
        (1, "retired", "logged"), (2, "champion", "file")]
    assert load_reference.fn(store, config).version == "v2"
    assert [(e["event"], e["version"], e["previous_version"]) for e in events_of(store, config.name)] == [
        ("registered", 1, None), ("registered", 2, 1)]
    baselines = version_baselines(store, config.name)
    assert sorted(baselines) == [1, 2] and baselines[2].performance == second.baseline
    assert baselines[1].reference_version == "v1"


def test_a_skops_file_is_registered(config: ModelConfig, log: pd.DataFrame, model_file: Path) -> None:
    """The skops format (no pickle) is read with scikit-learn and numpy types trusted."""
    import skops.io as sio

    path = model_file.with_suffix(".skops")
    sio.dump(joblib.load(model_file), path)
    done = register_model(open_store(), config, reference_start=START, reference_end=END, file=path)
    assert done.kind == "file" and done.baseline is not None


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"logged": True, "reference_start": START + timedelta(days=100), "reference_end": END + timedelta(days=100)},
     NoReferenceError, "has no rows"),
    ({"logged": True, "reference_start": END, "reference_end": START}, NoReferenceError, "at or after its end"),
    ({"logged": True, "file": Path("m.joblib")}, ModelFileError, "exactly one of --logged, --file"),
    ({"file": Path("/nonexistent/model.joblib")}, ModelFileError, "no such model file"),
    ({"file": Path(__file__)}, ModelFileError, "must end in .joblib or .skops"),
    ({"logged": True, "trained_to": END}, NoReferenceError, "no reference rows the model did not train on"),
])
def test_bad_registrations_name_the_problem_and_write_nothing(config: ModelConfig, log: pd.DataFrame,
                                                              kwargs: dict[str, object], error: type[Exception],
                                                              message: str) -> None:
    arguments: dict[str, object] = {"reference_start": START, "reference_end": END, **kwargs}
    store = open_store()
    with pytest.raises(error, match=message):
        register_model(store, config, **arguments)  # type: ignore[arg-type]
    assert versions(store, config.name) == []


def test_a_file_that_is_not_a_model_is_refused(config: ModelConfig, log: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "broken.joblib"
    path.write_bytes(b"not a pickle")
    with pytest.raises(ModelFileError, match="cannot be read as a joblib model"):
        register_model(open_store(), config, reference_start=START, reference_end=END, file=path)


def test_the_register_command_prints_one_line_per_outcome(config: ModelConfig, log: pd.DataFrame) -> None:
    """`driftflow register` prints what it did, then `already registered`; a bad window is one error line."""
    runner = CliRunner()
    window = ["--reference-start", START.isoformat(), "--reference-end", END.isoformat()]
    first = runner.invoke(app, ["register", "flights-delay", "--logged", *window])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("flights-delay: v1 (logged) is the champion; reference v1 of 4500 rows, baseline")
    again = runner.invoke(app, ["register", "flights-delay", "--logged", *window, "--json"])
    assert json.loads(again.output)["created"] is False
    empty = runner.invoke(app, ["register", "flights-delay", "--logged", "--reference-start", "2020-01-01",
                                "--reference-end", "2020-02-01"])
    assert empty.exit_code == 1
    assert empty.output.strip().startswith("error: flights-delay: the reference window")
    assert "Traceback" not in empty.output


def test_an_mlflow_model_is_pinned_to_the_version_its_alias_names(config: ModelConfig, log: pd.DataFrame,
                                                                   model_file: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`models:/name@alias` resolves to a version now; a later move of the alias does not change the champion."""
    pytest.importorskip("mlflow")
    import mlflow
    import mlflow.sklearn
    import skops.io as sio

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    model = joblib.load(model_file)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name="flights",
                                        pip_requirements=["scikit-learn"],
                                        skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(model)))
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("flights", "production", info.registered_model_version)
    done = register_model(open_store(), config, reference_start=START, reference_end=END,
                          mlflow_uri="models:/flights@production", trained_to=TRAINED_TO)
    assert done.kind == "mlflow"
    row = champion(open_store(), config.name)
    assert row is not None and row["source_uri"].startswith(f"models:/flights/{info.registered_model_version} ")
    stored = joblib.load(row["artifact_path"])
    assert np.allclose(predict(stored, log, config), predict(model, log, config))
    with pytest.raises(ModelFileError, match="MLflow could not resolve it"):
        register_model(open_store(), config, reference_start=START, reference_end=END, mlflow_uri="models:/none@x")


def test_logged_version_labels_map_to_version_numbers() -> None:
    assert [version_of(v) for v in (3, 3.0, "3", "v3", "V3", " 3 ", "prod", 2.5, None)] == [
        3, 3, 3, 3, 3, 3, None, None, None]


def test_two_registrations_never_share_a_number_or_a_file(config: ModelConfig, log: pd.DataFrame,
                                                          model_file: Path) -> None:
    """Each registration gets the next number from the database and a model file of its own."""
    store = open_store()
    first = register_model(store, config, reference_start=START, reference_end=END, file=model_file)
    second = register_model(store, config, reference_start=START, reference_end=END, file=model_file, force=True)
    rows = versions(store, config.name)
    assert [r["version"] for r in rows] == [first.version, second.version] == [1, 2]
    assert rows[0]["artifact_path"] != rows[1]["artifact_path"]
    with store.connect() as conn:
        paths = conn.execute(sa.text("SELECT path FROM reference_snapshots ORDER BY version")).scalars().all()
    assert len(set(paths)) == 2 and all(Path(p).is_file() for p in paths)


def test_a_long_reference_keeps_a_sample_of_its_rows_and_a_profile_of_all_of_them(
        config: ModelConfig, log: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over `STORED_ROWS` (and the report's sample), the Parquet keeps that many rows drawn from every week; the
    profile, the recorded row count and the baseline still come from all 4,500."""
    import tasks.registry.references as references

    monkeypatch.setattr(references, "STORED_ROWS", 900)
    config = config.model_copy(update={"drift": config.drift.model_copy(update={"report_rows": 300})})
    store = open_store()
    done = register_model(store, config, reference_start=START, reference_end=END, logged=True)
    reference = load_reference.fn(store, config)
    assert (done.reference_rows, len(reference.data)) == (len(log), 900)
    weeks = ((reference.data["scheduled_at"] - START) // timedelta(days=7)).value_counts()
    assert sorted(weeks.index) == [0, 1, 2] and weeks.min() >= 250
    assert reference.performance == pytest.approx(score("roc_auc", log["arrived_late"], log["delay_proba"]))
    assert reference.profile.rows == len(log)
    assert reference.profile["distance"].rows + reference.profile["distance"].nulls == len(log)
