"""Model files in the artifact store: one unique file per attempt, read back as joblib or skops.

Every stored file has a key no other attempt can produce (version label plus a random suffix), so two
registrations or retrains at once never overwrite each other's files, and a file is only ever written once.
Files go through `tasks/artifacts.py`, so a worker on another machine reads the champion another one wrote
when `DRIFTFLOW_ARTIFACTS` is shared storage; the registry records each file's URL (`url_for(key)`).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path, PurePath
from typing import Any

import joblib

from tasks import artifacts
from tasks.artifact_keys import stored_exists, stored_key
from tasks.errors import ModelFileError

SUFFIXES = (".joblib", ".skops")
# skops refuses to load types it does not know; these module prefixes hold nothing but estimators and arrays.
COMPRESS = 3  # joblib's zlib level: a fitted ensemble shrinks to ~40 %, loads as fast
TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.", "functools.partial",
                   "tasks.retrain.trainers.")


def new_model_key(model: str, label: str, suffix: str = ".joblib") -> str:
    """A fresh, unique key in the artifact store for one model file: `models/<model>/<label>-<random><suffix>`."""
    return f"models/{model}/{label}-{uuid.uuid4().hex[:12]}{suffix}"


def save_estimator(model: str, label: str, estimator: Any) -> str:
    """Store a fitted estimator (joblib) under a unique key; returns its URL (what the registry records)."""
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=COMPRESS)
    return artifacts.write_bytes(new_model_key(model, label), buffer.getvalue())


def copy_model_file(model: str, label: str, source: Path) -> str:
    """Copy a user's model file into the artifact store, so the registry never depends on where it came from;
    returns its URL."""
    return artifacts.upload(source, new_model_key(model, label, source.suffix))


def checksum(path: Path) -> str:
    """sha256 of a file: what makes two registrations of one file the same registration."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_model_file(path: Path) -> Any:
    """A fitted estimator from a local `.joblib` or `.skops` file, or a ModelFileError naming the file."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    return read_model_bytes(path.read_bytes(), str(path))


def read_model_bytes(data: bytes, name: str) -> Any:
    """A fitted estimator from a model file's bytes; `name` (a path or URL) gives its format and the errors' subject."""
    suffix = PurePath(name).suffix
    if suffix not in SUFFIXES:
        raise ModelFileError(f"{name}: a model file must end in .joblib or .skops")
    try:
        if suffix == ".skops":
            return _read_skops(data, name)
        return joblib.load(io.BytesIO(data))
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{name}: cannot be read as a {suffix[1:]} model ({type(exc).__name__}: "
                             f"{exc})") from exc


def _read_skops(data: bytes, name: str) -> Any:
    import skops.io as sio

    unknown = sio.get_untrusted_types(data=data)
    refused = [t for t in unknown if not t.startswith(TRUSTED_MODULES)]
    if refused:
        raise ModelFileError(f"{name}: holds types driftflow does not load from a .skops file: "
                             f"{', '.join(sorted(refused))} (only scikit-learn, numpy and scipy types are trusted)")
    return sio.loads(data, trusted=unknown)


def load_estimator(row: dict[str, Any]) -> Any:
    """The estimator of a registered version, read from the artifact store (any worker sharing it can)."""
    location = row.get("artifact_path")
    if not location:
        raise ModelFileError(f"version {row.get('version')} of {row.get('model')} has no model file "
                             f"(registered as {row.get('kind')}: known by its logged predictions only)")
    try:
        key = stored_key(str(location))
    except ValueError as exc:
        raise ModelFileError(f"model_versions.artifact_path of {row.get('model')} v{row.get('version')}: "
                             f"{exc}") from None
    try:
        data = artifacts.read_bytes(key)
    except FileNotFoundError:
        raise ModelFileError(f"{artifacts.url_for(key)}: no such model file (model_versions.artifact_path of "
                             f"{row.get('model')} v{row.get('version')})") from None
    return read_model_bytes(data, artifacts.url_for(key))


def artifact_exists(row: dict[str, Any]) -> bool:
    """Whether the version's model file is in the artifact store."""
    return stored_exists(row.get("artifact_path"))
