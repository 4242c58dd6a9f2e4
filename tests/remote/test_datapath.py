"""The native data path (``remote.data_path = "native"``, the default): GetObject, HeadObject,
PutObject and UploadPart signed by s3d and sent over its own aiohttp session.

Against two real remotes: moto (the test remote everywhere else) and SeaweedFS configured
with one identity, which verifies every SigV4 signature as S3 does (moto accepts any).
Transport faults (a 503 SlowDown, a reset mid-body) come from real loopback servers written
here, since neither remote can be told to misbehave.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator

import pytest

from s3d.protocol import errors
from s3d.protocol import operations as ops
from s3d.protocol.model import header
from s3d.protocol.ranges import ByteRange
from s3d.remote.client import RemoteS3
from s3d.remote.datapath import DataPath
from tests.remote.conftest import Stage, new_bucket, read_all, remote_settings, seaweed_settings

HANG_GUARD = 60.0
DATA = bytes(range(256)) * 16  # 4 KiB


@pytest.fixture(params=["moto", "seaweedfs"])
async def remote(request: pytest.FixtureRequest, remote_url: str) -> AsyncIterator[RemoteS3]:
    if request.param == "moto":
        settings = remote_settings(remote_url)
    else:
        settings = seaweed_settings(request.getfixturevalue("seaweed_url"))
    async with RemoteS3(settings) as client:
        assert isinstance(client.get_object.__self__, DataPath)  # the default is native
        yield client


async def get(remote: RemoteS3, op: ops.GetObject) -> tuple[int, dict[str, str], bytes]:
    answer = await asyncio.wait_for(remote.get_object(op), HANG_GUARD)
    body = b"" if answer.body is None else await read_all(answer.body)
    return answer.status, dict(answer.headers), body


async def test_put_then_get_whole_and_a_range(remote: RemoteS3, stage: Stage) -> None:
    bucket = await new_bucket(remote)
    key = "dir/odd key+ü~%.bin"
    written = await remote.put_object(ops.PutObject(bucket, key), await stage(DATA))
    etag = f'"{hashlib.md5(DATA).hexdigest()}"'
    assert header(written.headers, "etag") == etag

    status, headers, body = await get(remote, ops.GetObject(bucket, key))
    assert (status, body, headers["etag"]) == (200, DATA, etag)
    assert headers["content-length"] == str(len(DATA))

    status, headers, body = await get(remote, ops.GetObject(bucket, key, range=ByteRange(100, 199)))
    assert (status, body) == (206, DATA[100:200])
    assert headers["content-range"] == f"bytes 100-199/{len(DATA)}"

    status, headers, body = await get(remote, ops.GetObject(bucket, key, head=True))
    assert (status, body, headers["content-length"]) == (200, b"", str(len(DATA)))


async def test_conditional_reads_answer_304_and_412(remote: RemoteS3, stage: Stage) -> None:
    bucket = await new_bucket(remote)
    await remote.put_object(ops.PutObject(bucket, "k"), await stage(DATA))
    etag = f'"{hashlib.md5(DATA).hexdigest()}"'
    with pytest.raises(errors.NotModified) as raised:
        await remote.get_object(ops.GetObject(bucket, "k", headers=(("if-none-match", etag),)))
    assert raised.value.headers["etag"] == etag  # a 304's validators are kept
    with pytest.raises(errors.PreconditionFailed):
        await remote.get_object(ops.GetObject(bucket, "k", headers=(("if-match", '"0"'),)))
    # A matching condition reads the object.
    status, _, body = await get(remote, ops.GetObject(bucket, "k", headers=(("if-match", etag),)))
    assert (status, body) == (200, DATA)


async def test_a_missing_key_is_no_such_key_for_head_and_get(remote: RemoteS3) -> None:
    bucket = await new_bucket(remote)
    for head in (True, False):  # HEAD's 404 has no body to read: it must not wait for one
        with pytest.raises(errors.NoSuchKey):
            await asyncio.wait_for(
                remote.get_object(ops.GetObject(bucket, "absent", head=head)), HANG_GUARD
            )
    with pytest.raises(errors.NoSuchBucket):
        await remote.get_object(ops.GetObject(f"absent-{bucket}", "k"))


@pytest.fixture
async def seaweed(seaweed_url: str) -> AsyncIterator[RemoteS3]:
    async with RemoteS3(seaweed_settings(seaweed_url)) as client:
        yield client


async def test_put_carries_content_md5_and_the_remote_checks_it(
    seaweed: RemoteS3, stage: Stage
) -> None:
    # SeaweedFS checks Content-MD5 (moto ignores it).
    remote = seaweed
    bucket = await new_bucket(remote)
    body = await stage(DATA)
    wrong = dataclasses.replace(body, md5=hashlib.md5(b"other bytes").digest())
    with pytest.raises(errors.S3Error) as raised:
        await remote.put_object(ops.PutObject(bucket, "k"), wrong)
    assert raised.value.code == "BadDigest"
    with pytest.raises(errors.NoSuchKey):  # nothing was stored
        await remote.get_object(ops.GetObject(bucket, "k", head=True))


async def test_metadata_and_parameter_headers_reach_the_remote(
    remote: RemoteS3, stage: Stage
) -> None:
    bucket = await new_bucket(remote)
    given = (
        ("content-type", "text/x-s3d"),
        ("x-amz-meta-colour", "blue"),
        ("x-amz-content-sha256", "not s3d's to send"),  # supplied by s3d, never the client's
    )
    await remote.put_object(ops.PutObject(bucket, "k", headers=given), await stage(DATA))
    _, headers, _ = await get(remote, ops.GetObject(bucket, "k", head=True))
    assert (headers["content-type"], headers["x-amz-meta-colour"]) == ("text/x-s3d", "blue")
    overrides = (("content-type", "application/x-override"),)
    _, headers, _ = await get(remote, ops.GetObject(bucket, "k", overrides=overrides))
    assert headers["content-type"] == "application/x-override"


async def test_multipart_parts_upload_natively(remote: RemoteS3, stage: Stage) -> None:
    bucket = await new_bucket(remote)
    created = await remote.create_multipart_upload(ops.CreateMultipartUpload(bucket, "mp"))
    part = await remote.upload_part(
        ops.UploadPart(bucket, "mp", created.upload_id, 1), await stage(DATA)
    )
    etag = header(part.headers, "etag")
    assert etag == f'"{hashlib.md5(DATA).hexdigest()}"'
    await remote.complete_multipart_upload(
        ops.CompleteMultipartUpload(bucket, "mp", created.upload_id, (ops.CompletedPart(1, etag),))
    )
    assert (await get(remote, ops.GetObject(bucket, "mp")))[2] == DATA
