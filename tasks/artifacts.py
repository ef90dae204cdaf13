"""The artifact store: reports, model files and reference snapshots under one root, local or remote.

`DRIFTFLOW_ARTIFACTS` names the root: a local folder (the default, `$DRIFTFLOW_HOME/artifacts`) or any fsspec
URL such as `s3://bucket/prefix`, `gs://bucket/prefix` or `az://container/prefix` (install the extra that
brings the file system: `driftflow[s3]`, `driftflow[gcs]`, `driftflow[azure]`). Credentials come the way each
file system reads them (AWS_* variables, an instance role, GOOGLE_APPLICATION_CREDENTIALS…), never from here.

Code names an artifact by its **key**, a relative POSIX path such as `reports/flights-delay/20130204T0600/
drift.html`; the store keeps keys, so the root can move without rewriting records. `url_for(key)` is where it
lives (`s3://bucket/prefix/reports/…` or an absolute local path).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

import fsspec

from tasks.errors import ArtifactsUnavailable
from tasks.settings import artifacts_root

BACKENDS = {"s3": "s3fs (pip install 'driftflow[s3]')", "gs": "gcsfs (pip install 'driftflow[gcs]')",
            "gcs": "gcsfs (pip install 'driftflow[gcs]')", "az": "adlfs (pip install 'driftflow[azure]')",
            "abfs": "adlfs (pip install 'driftflow[azure]')"}


@dataclass(frozen=True)
class StoredArtifact:
    """One stored object: its key, size in bytes and last modification (UTC, None when unknown)."""

    key: str
    size: int
    modified: datetime | None


def _split(root: str) -> tuple[str, str]:
    """(protocol, path) of the root; a plain path is the local file system."""
    if "://" in root:
        protocol, rest = root.split("://", 1)
        return protocol, f"{protocol}://{rest.rstrip('/')}"
    return "file", str(Path(root).expanduser().resolve())


def is_local() -> bool:
    """True when artifacts live in a local folder (links can be file URIs, files can be served)."""
    return _split(artifacts_root())[0] in ("file", "local")


def _filesystem() -> tuple[fsspec.AbstractFileSystem, str]:
    protocol, base = _split(artifacts_root())
    try:
        fs = fsspec.filesystem(protocol, **_options(protocol))
    except ImportError as exc:
        need = BACKENDS.get(protocol, f"an fsspec implementation for {protocol}://")
        raise ArtifactsUnavailable(f"DRIFTFLOW_ARTIFACTS={artifacts_root()} needs {need} ({exc})") from None
    except ValueError as exc:
        raise ArtifactsUnavailable(f"DRIFTFLOW_ARTIFACTS={artifacts_root()}: {exc}") from None
    return fs, base


def _options(protocol: str) -> dict[str, Any]:
    """File-system options from the environment (an S3-compatible endpoint such as MinIO or moto)."""
    if protocol == "s3" and os.environ.get("DRIFTFLOW_S3_ENDPOINT_URL"):
        return {"client_kwargs": {"endpoint_url": os.environ["DRIFTFLOW_S3_ENDPOINT_URL"]}}
    return {}


def _clean(key: str) -> str:
    path = PurePosixPath(key.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"{key!r} is not a relative artifact key like 'reports/model/window/drift.html'")
    return path.as_posix()


def url_for(key: str) -> str:
    """Where the artifact lives: `s3://bucket/prefix/<key>` or an absolute local path."""
    _, base = _split(artifacts_root())
    return f"{base}/{_clean(key)}"


def key_for(location: str) -> str:
    """The key of a stored location: a key stays as it is; a path or URL under the root loses the root.

    Records written before keys were stored hold absolute local paths; this reads both.
    """
    _, base = _split(artifacts_root())
    if location.startswith(base + "/"):
        return location[len(base) + 1:]
    if "://" not in location and Path(location).is_absolute():
        resolved = str(Path(location).resolve())
        if resolved.startswith(base + "/"):
            return resolved[len(base) + 1:]
        raise ValueError(f"{location} is not under the artifact root {base}")
    if "://" in location:
        raise ValueError(f"{location} is not under the artifact root {base}")
    return _clean(location)


def _call(action: str, key: str, operation: Any) -> Any:
    try:
        return operation()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ArtifactsUnavailable(f"could not {action} {url_for(key)} (DRIFTFLOW_ARTIFACTS): {exc}") from None


def write_bytes(key: str, data: bytes) -> str:
    """Store `data` under `key` (parents created, an existing object replaced); returns its URL."""
    fs, _ = _filesystem()
    target = url_for(key)
    if is_local():
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    _call("write", key, lambda: fs.pipe_file(target, data))
    return target


def read_bytes(key: str) -> bytes:
    """The stored bytes; FileNotFoundError names the URL when there is no such artifact."""
    fs, _ = _filesystem()
    try:
        return bytes(_call("read", key, lambda: fs.cat_file(url_for(key))))
    except FileNotFoundError:
        raise FileNotFoundError(f"no artifact {url_for(key)}") from None


def upload(local_path: str | Path, key: str) -> str:
    """Copy a local file (such as an HTML report a library wrote) to `key`; returns its URL."""
    fs, _ = _filesystem()
    target = url_for(key)
    if is_local() and Path(local_path).resolve() == Path(target):
        return target
    if is_local():
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    _call("upload", key, lambda: fs.put_file(str(local_path), target))
    return target


def open_artifact(key: str, mode: str = "rb") -> IO[Any]:
    """A file object on the artifact (for pandas, joblib, pyarrow); write modes create parents."""
    fs, _ = _filesystem()
    target = url_for(key)
    if "w" in mode and is_local():
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    return _call("open", key, lambda: fs.open(target, mode))


def exists(key: str) -> bool:
    fs, _ = _filesystem()
    return bool(_call("look up", key, lambda: fs.exists(url_for(key))))


def delete(key: str) -> bool:
    """Remove one artifact; False when it was not there."""
    fs, _ = _filesystem()
    target = url_for(key)
    if not _call("look up", key, lambda: fs.exists(target)):  # S3 deletes a missing object without a word
        return False
    try:
        _call("delete", key, lambda: fs.rm_file(target))
    except FileNotFoundError:
        return False
    return True


def list_artifacts(prefix: str = "") -> list[StoredArtifact]:
    """Every artifact whose key starts with the folder `prefix` (recursively), sorted by key."""
    fs, base = _filesystem()
    folder = f"{base}/{_clean(prefix)}" if prefix else base
    try:
        found = _call("list", prefix or ".", lambda: fs.find(folder, detail=True))
    except FileNotFoundError:
        return []
    root = fs._strip_protocol(base).rstrip("/")  # how the file system spells paths under the root
    items = [StoredArtifact(path[len(root) + 1:], int(info.get("size") or 0), _modified(info))
             for path, info in found.items() if path.startswith(root + "/")]
    return sorted(items, key=lambda item: item.key)


def _modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("LastModified") or info.get("mtime") or info.get("last_modified") or info.get("updated")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
