"""The artifact store behaves the same on a local folder and on an S3-compatible server."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from tasks import artifacts
from tasks.errors import ArtifactsUnavailable


@pytest.fixture(params=["local", "s3"])
def root(request: pytest.FixtureRequest, driftflow_home: Path) -> str:
    """Each test runs once on the default local folder and once on a bucket of a real S3 server."""
    if request.param == "s3":
        return str(request.getfixturevalue("s3_artifacts"))
    return str(driftflow_home / "artifacts")


def test_written_bytes_read_back_and_are_listed_under_their_folder(root: str) -> None:
    """What is written under a key reads back byte for byte, and listing a folder finds it with its size."""
    artifacts.write_bytes("reports/m1/20130204T0600/drift.html", b"<html>drift</html>")
    artifacts.write_bytes("reports/m1/20130211T0600/drift.html", b"<html>later</html>")
    artifacts.write_bytes("models/m1/v1.joblib", b"model")

    assert artifacts.read_bytes("reports/m1/20130204T0600/drift.html") == b"<html>drift</html>"
    listed = artifacts.list_artifacts("reports/m1")
    assert [a.key for a in listed] == ["reports/m1/20130204T0600/drift.html", "reports/m1/20130211T0600/drift.html"]
    assert listed[0].size == len(b"<html>drift</html>")
    assert listed[0].modified is not None
    assert [a.key for a in artifacts.list_artifacts()] == [
        "models/m1/v1.joblib", "reports/m1/20130204T0600/drift.html", "reports/m1/20130211T0600/drift.html"]
    assert artifacts.list_artifacts("references") == []


def test_url_names_the_root_and_key_for_reads_it_back(root: str) -> None:
    """The URL of a key sits under DRIFTFLOW_ARTIFACTS, and the key of that URL is the key again."""
    url = artifacts.url_for("references/m1/v2.parquet")
    assert url.startswith(root.rstrip("/") if "://" in root else str(Path(root).resolve()))
    assert url.endswith("/references/m1/v2.parquet")
    assert artifacts.key_for(url) == "references/m1/v2.parquet"
    assert artifacts.key_for("references/m1/v2.parquet") == "references/m1/v2.parquet"


def test_exists_and_delete(root: str) -> None:
    """Deleting removes the artifact once; a second delete says it was not there."""
    artifacts.write_bytes("models/m1/v3.joblib", b"x")
    assert artifacts.exists("models/m1/v3.joblib")
    assert artifacts.delete("models/m1/v3.joblib") is True
    assert not artifacts.exists("models/m1/v3.joblib")
    assert artifacts.delete("models/m1/v3.joblib") is False
    with pytest.raises(FileNotFoundError, match=r"v3\.joblib"):
        artifacts.read_bytes("models/m1/v3.joblib")


def test_parquet_round_trips_through_open(root: str) -> None:
    """pandas writes and reads a reference snapshot through the file objects the store opens."""
    frame = pd.DataFrame({"temp": [1.5, 2.5], "carrier": ["UA", "B6"]})
    with artifacts.open_artifact("references/m1/v1.parquet", "wb") as out:
        frame.to_parquet(out, index=False)
    with artifacts.open_artifact("references/m1/v1.parquet") as source:
        assert pd.read_parquet(io.BytesIO(source.read())).equals(frame)


def test_a_local_report_file_is_uploaded(root: str, tmp_path: Path) -> None:
    """A file a library wrote locally (an Evidently report) is copied under its key."""
    html = tmp_path / "drift.html"
    html.write_text("<html>report</html>")
    artifacts.upload(html, "reports/m1/20130204T0600/drift.html")
    assert artifacts.read_bytes("reports/m1/20130204T0600/drift.html") == b"<html>report</html>"


@pytest.mark.parametrize("key", ["/etc/passwd", "../outside", "reports/../../x", ""])
def test_keys_cannot_leave_the_root(driftflow_home: Path, key: str) -> None:
    """A key is relative and stays under the root."""
    with pytest.raises(ValueError, match="not a relative artifact key"):
        artifacts.url_for(key)


def test_an_unknown_file_system_is_named_with_its_setting(driftflow_home: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL whose file system is not installed ends in one message naming DRIFTFLOW_ARTIFACTS."""
    monkeypatch.setenv("DRIFTFLOW_ARTIFACTS", "nosuchfs://bucket/prefix")
    with pytest.raises(ArtifactsUnavailable, match="DRIFTFLOW_ARTIFACTS=nosuchfs://bucket/prefix"):
        artifacts.write_bytes("a/b", b"x")
