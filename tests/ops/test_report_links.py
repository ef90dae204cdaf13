"""The report link on a monitor run opens without the demo's file server, or says where the report is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks import artifacts
from tasks.monitor.report import report_link, report_location_markdown

KEY = "reports/flights-delay/20130204T0600/drift.html"


def test_a_local_store_links_the_file(driftflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without DRIFTFLOW_REPORTS_URL a local report links to its file, from its key or its old absolute path."""
    monkeypatch.delenv("DRIFTFLOW_REPORTS_URL", raising=False)
    path = artifacts.write_bytes(KEY, b"<html/>")
    expected = Path(path).as_uri()
    assert report_link(KEY) == expected
    assert report_link(path) == expected


def test_a_reports_url_serves_the_key(driftflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With DRIFTFLOW_REPORTS_URL the link is that base plus the report's key, whatever the store."""
    monkeypatch.setenv("DRIFTFLOW_REPORTS_URL", "https://reports.example.com/driftflow/")
    assert report_link(KEY) == f"https://reports.example.com/driftflow/{KEY}"
    assert report_link(artifacts.url_for(KEY)) == f"https://reports.example.com/driftflow/{KEY}"


def test_a_remote_store_without_a_reports_url_shows_location_and_command(
        s3_artifacts: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On S3 without DRIFTFLOW_REPORTS_URL no (expiring, credential-bearing) presigned link is made; the run
    shows the report's URL and the command that fetches it."""
    monkeypatch.delenv("DRIFTFLOW_REPORTS_URL", raising=False)
    assert report_link(KEY) is None
    text = report_location_markdown("flights-delay", "2013-02-04T06:00:00+00:00", KEY)
    assert f"`{s3_artifacts}/{KEY}`" in text
    assert "driftflow report -m flights-delay --window-end 2013-02-04T06:00" in text
    assert "Signature" not in text and "X-Amz" not in text
