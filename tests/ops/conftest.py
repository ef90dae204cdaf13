"""Operations tests: a real S3-compatible server (moto in server mode) for the artifact store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tests.prefect_server as prefect_server_helper
from tests.prefect_server import free_port, prefect_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free local port, with dummy credentials; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture()
def s3_artifacts(s3_endpoint: str, driftflow_home: object, monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> str:
    """DRIFTFLOW_ARTIFACTS on a fresh bucket of the S3 server; returns the root URL."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("DRIFTFLOW_S3_ENDPOINT_URL", s3_endpoint)
    bucket = "driftflow-" + request.node.name.lower().replace("_", "-").replace("[", "-").replace("]", "")[:40]
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    root = f"s3://{bucket}/team-a"
    monkeypatch.setenv("DRIFTFLOW_ARTIFACTS", root)
    import fsspec

    fsspec.filesystem("s3").clear_instance_cache()
    return root


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server whose late-runs service marks a run Late one second after it was due.

    Its first start (migrations) is given up to five minutes: on a loaded shared machine it took two."""
    home = tmp_path_factory.mktemp("prefect-ops")
    patch = pytest.MonkeyPatch()
    patch.setattr(prefect_server_helper, "STARTUP_SECONDS", 300)
    with prefect_server(home, PREFECT_SERVER_SERVICES_LATE_RUNS_AFTER_SECONDS="1",
                        PREFECT_SERVER_SERVICES_LATE_RUNS_LOOP_SECONDS="2",
                        PREFECT_SERVER_UI_ENABLED="false") as base_url:
        yield f"{base_url}/api"
    patch.undo()
