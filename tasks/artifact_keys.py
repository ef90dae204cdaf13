"""From what the store records to an artifact key, even after the artifact root has moved.

Records hold the URL an artifact was written to (`s3://bucket/prefix/models/m/v2-….joblib`, or an absolute path
under a local root), because a URL is what a person can open and what older records already hold. Code reads
by key, so the same records keep working when `DRIFTFLOW_ARTIFACTS` points somewhere new (a bucket copied to
another prefix, a local folder synced to S3): a location outside the current root still names its key by the
layout every artifact follows.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from tasks import artifacts
from tasks.settings import artifacts_root

# top-level folder → how many path parts a key under it has (reports/_assets/<bundle>.js has 3)
DEPTHS = {"models": (3,), "references": (3,), "reports": (4, 3), "handoff": (2,)}


def stored_key(location: str) -> str:
    """The key of a recorded location: under the current root, its relative part; otherwise the trailing
    `models/<model>/<file>`, `references/<model>/<file>` or `reports/<model>/<stamp>/<file>` of it.
    ValueError when it is neither."""
    try:
        return artifacts.key_for(location)
    except ValueError:
        pass
    parts = PurePosixPath(location.split("://", 1)[-1].replace("\\", "/")).parts
    for depth in sorted({d for ds in DEPTHS.values() for d in ds}, reverse=True):
        if len(parts) > depth and depth in DEPTHS.get(parts[-depth], ()):
            return PurePosixPath(*parts[-depth:]).as_posix()
    raise ValueError(f"{location} is neither under the artifact root {artifacts_root()} nor laid out like a "
                     f"driftflow artifact ({', '.join(f'{f}/…' for f in DEPTHS)})")


def read_stored(location: str) -> bytes:
    """The bytes of a recorded artifact (FileNotFoundError names the URL it was looked for at)."""
    return artifacts.read_bytes(stored_key(location))


def stored_exists(location: str | None) -> bool:
    """Whether a recorded artifact is still there (False for no location or one that is not an artifact)."""
    if not location:
        return False
    try:
        return artifacts.exists(stored_key(location))
    except ValueError:
        return False
