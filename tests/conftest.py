from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import CountingRelay, DaemonThread, client, daemon_settings, moto_server


@pytest.fixture(scope="session")
def remote_url() -> Iterator[str]:
    """A real moto S3 server on loopback, shared by the session."""
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def s3d(remote_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonThread]:
    """A real s3d daemon in front of the moto remote, shared by the session."""
    data_dir: Path = tmp_path_factory.mktemp("s3d-data")
    with DaemonThread(daemon_settings(remote_url, data_dir)) as daemon:
        yield daemon


@pytest.fixture
def s3(s3d: DaemonThread):
    """boto3 against s3d, with the default (when_supported) checksum settings."""
    return client(s3d.endpoint_url)


@pytest.fixture
def remote(remote_url: str):
    """boto3 straight to the remote, to check what s3d really stored."""
    return client(remote_url, key="remote-access-key-id", secret="remote-secret")


@pytest.fixture
def bucket(s3) -> str:
    name = f"b-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def relay(remote_url: str) -> Iterator[CountingRelay]:
    """A relay in front of the remote that records requests and can hold or fail them."""
    with CountingRelay(remote_url) as counting:
        yield counting
