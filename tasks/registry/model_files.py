"""Model files in the artifact store: one unique file per attempt, read back as joblib or skops.

Every stored file has a name no other attempt can produce (version label plus a random suffix), so two
registrations or retrains at once never overwrite each other's files, and a file is only ever written once.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

import joblib

from tasks.errors import ModelFileError
from tasks.settings import artifacts_dir

SUFFIXES = (".joblib", ".skops")
# skops refuses to load types it does not know; these module prefixes hold nothing but estimators and arrays.
TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.", "functools.partial",
                   "tasks.retrain.trainers.")


def new_model_path(model: str, label: str, suffix: str = ".joblib") -> Path:
    """A fresh, unique path under the artifact store for one model file."""
    folder = artifacts_dir() / "models" / model
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{label}-{uuid.uuid4().hex[:12]}{suffix}"


def save_estimator(model: str, label: str, estimator: Any) -> Path:
    """Store a fitted estimator (joblib) under a unique name; returns its path."""
    path = new_model_path(model, label)
    joblib.dump(estimator, path)
    return path


def copy_model_file(model: str, label: str, source: Path) -> Path:
    """Copy a user's model file into the artifact store, so the registry never depends on where it came from."""
    path = new_model_path(model, label, source.suffix)
    shutil.copyfile(source, path)
    return path


def checksum(path: Path) -> str:
    """sha256 of a file: what makes two registrations of one file the same registration."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_model_file(path: Path) -> Any:
    """A fitted estimator from a `.joblib` or `.skops` file, or a ModelFileError naming the file."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if path.suffix not in SUFFIXES:
        raise ModelFileError(f"{path}: a model file must end in .joblib or .skops")
    try:
        if path.suffix == ".skops":
            return _read_skops(path)
        return joblib.load(path)
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{path}: cannot be read as a {path.suffix[1:]} model ({type(exc).__name__}: "
                             f"{exc})") from exc


def _read_skops(path: Path) -> Any:
    import skops.io as sio

    unknown = sio.get_untrusted_types(file=path)
    refused = [name for name in unknown if not name.startswith(TRUSTED_MODULES)]
    if refused:
        raise ModelFileError(f"{path}: holds types driftflow does not load from a .skops file: "
                             f"{', '.join(sorted(refused))} (only scikit-learn, numpy and scipy types are trusted)")
    return sio.load(path, trusted=unknown)


def load_estimator(row: dict[str, Any]) -> Any:
    """The estimator of a registered version (its stored file)."""
    if not row.get("artifact_path"):
        raise ModelFileError(f"version {row.get('version')} of {row.get('model')} has no model file "
                             f"(registered as {row.get('kind')}: known by its logged predictions only)")
    return read_model_file(Path(row["artifact_path"]))


def artifact_exists(row: dict[str, Any]) -> bool:
    return bool(row.get("artifact_path")) and Path(row["artifact_path"]).is_file()
