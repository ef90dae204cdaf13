"""Recorded artifact locations back to keys: under the current root, and after the root has moved."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks import artifacts
from tasks.artifact_keys import read_stored, stored_exists, stored_key


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "now"
    monkeypatch.setenv("DRIFTFLOW_ARTIFACTS", str(folder))
    return folder


def test_a_location_under_the_root_is_its_relative_part(root: Path) -> None:
    url = artifacts.write_bytes("models/m/v1-abc.joblib", b"x")
    assert url == str(root.resolve() / "models/m/v1-abc.joblib")
    assert stored_key(url) == "models/m/v1-abc.joblib" and read_stored(url) == b"x" and stored_exists(url)


@pytest.mark.parametrize(("location", "key"), [
    ("/old/home/artifacts/models/flights-delay/v2-0123456789ab.joblib", "models/flights-delay/v2-0123456789ab.joblib"),
    ("s3://other-bucket/team-b/references/m/v1-0123.parquet", "references/m/v1-0123.parquet"),
    ("s3://b/p/references/m/v1-0123.profile.npz", "references/m/v1-0123.profile.npz"),
    ("s3://b/models/x/reports/m/20130204T0600/drift.html", "reports/m/20130204T0600/drift.html"),
    ("/srv/reports/_assets/0123abcd.js", "reports/_assets/0123abcd.js"),
    ("/home/models/work/artifacts/models/m/v3-ff.skops", "models/m/v3-ff.skops"),
])
def test_a_moved_root_still_names_the_key_by_the_layout(root: Path, location: str, key: str) -> None:
    """Records written under an older root are read from the same key under the new one."""
    assert stored_key(location) == key


def test_a_moved_record_reads_the_object_under_the_new_root(root: Path) -> None:
    artifacts.write_bytes("references/m/v1-abc.parquet", b"rows")
    assert read_stored("s3://old-bucket/prefix/references/m/v1-abc.parquet") == b"rows"


@pytest.mark.parametrize("location", ["/tmp/elsewhere/model.joblib", "s3://b/p/notes.txt", "/models/m.joblib"])
def test_a_location_that_is_no_artifact_is_refused(root: Path, location: str) -> None:
    with pytest.raises(ValueError, match="artifact root"):
        stored_key(location)
    assert not stored_exists(location) and not stored_exists(None)
