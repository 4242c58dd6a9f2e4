"""Forwarded operations: sent as they came, re-signed, answered untouched."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from s3d.protocol import errors
from s3d.protocol import operations as ops
from s3d.protocol.model import header
from s3d.remote.client import RemoteS3
from s3d.remote.connect import EXPECT_CONTINUE_FROM
from tests.remote.conftest import REMOTE_KEY, REMOTE_SECRET, Stage, read_all, remote_settings

VERSIONING = (
    b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Status>Enabled</Status></VersioningConfiguration>"
)
ODD_KEY = "acl dir/ü+%.txt"


def direct(url: str) -> bytes:
    """The remote's own answer, fetched without s3d."""
    with urllib.request.urlopen(url) as answer:
        return bytes(answer.read())


async def test_versioning_put_then_get(
    remote_s3: RemoteS3, remote_bucket: str, remote_url: str, stage: Stage
) -> None:
    put = await remote_s3.forward(
        ops.Forwarded(
            "PutBucketVersioning",
            "PUT",
            remote_bucket,
            None,
            (("versioning", ""),),
            (("content-type", "application/xml"),),
        ),
        await stage(VERSIONING),
    )
    await read_all(put.body)
    assert put.status == 200

    got = await remote_s3.forward(
        ops.Forwarded("GetBucketVersioning", "GET", remote_bucket, None, (("versioning", ""),)),
        None,
    )
    body = await read_all(got.body)
    assert got.status == 200
    assert b"<Status>Enabled</Status>" in body
    assert body == await asyncio.to_thread(direct, f"{remote_url}/{remote_bucket}?versioning")
    assert header(got.headers, "content-length") == str(len(body))
    assert header(got.headers, "x-amz-request-id") is None


async def test_object_acl_of_an_odd_key(
    remote_s3: RemoteS3, remote_bucket: str, remote: Any, stage: Stage
) -> None:
    await remote_s3.put_object(ops.PutObject(remote_bucket, ODD_KEY), await stage(b"x"))
    got = await remote_s3.forward(
        ops.Forwarded("GetObjectAcl", "GET", remote_bucket, ODD_KEY, (("acl", ""),)), None
    )
    body = await read_all(got.body)
    assert got.status == 200
    assert b"AccessControlPolicy" in body
    url = remote.generate_presigned_url(
        "get_object_acl", Params={"Bucket": remote_bucket, "Key": ODD_KEY}
    )
    assert body == await asyncio.to_thread(direct, url)


async def test_query_values_are_encoded(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    await remote_s3.put_object(ops.PutObject(remote_bucket, ODD_KEY), await stage(b"x"))
    await remote_s3.put_object(ops.PutObject(remote_bucket, "other"), await stage(b"y"))
    got = await remote_s3.forward(
        ops.Forwarded(
            "ListObjectVersions",
            "GET",
            remote_bucket,
            None,
            (("versions", ""), ("prefix", "acl dir/ü+")),
        ),
        None,
    )
    body = (await read_all(got.body)).decode()
    assert "<Key>acl dir/ü+%.txt</Key>" in body
    assert "<Key>other</Key>" not in body


async def test_remote_errors_are_s3_errors(remote_s3: RemoteS3, remote_bucket: str) -> None:
    with pytest.raises(errors.NoSuchBucket):
        await remote_s3.forward(
            ops.Forwarded(
                "GetBucketVersioning", "GET", "no-such-bucket-s3d", None, (("versioning", ""),)
            ),
            None,
        )
    with pytest.raises(errors.NoSuchKey):
        await remote_s3.forward(
            ops.Forwarded("GetObjectAcl", "GET", remote_bucket, "absent", (("acl", ""),)), None
        )


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[str, list[web.Request], list[bytes]]]:
    """A real HTTP server that records what reaches it and answers a fixed document."""
    seen: list[web.Request] = []
    bodies: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.read())
        return web.Response(body=b"<Done/>", content_type="application/xml")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/"), seen, bodies


async def test_request_is_resigned_with_the_remote_credentials(
    recorder: tuple[str, list[web.Request], list[bytes]], stage: Stage
) -> None:
    url, seen, bodies = recorder
    body = await stage(b"<Tagging><TagSet/></Tagging>", checksums=("CRC32",))
    op = ops.Forwarded(
        "PutBucketLifecycleConfiguration",
        "PUT",
        "my-bucket",
        None,
        (("lifecycle", ""),),
        (
            ("content-type", "application/xml"),
            ("x-amz-expected-bucket-owner", "123456789012"),
            ("authorization", "AWS4-HMAC-SHA256 Credential=CLIENTKEY/..."),
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("content-md5", "Y2xpZW50J3MgdmFsdWU="),
        ),
    )
    async with RemoteS3(remote_settings(url)) as remote:
        answer = await remote.forward(op, body)
        assert await read_all(answer.body) == b"<Done/>"

    request = seen[0]
    assert request.method == "PUT"
    assert request.path_qs == "/my-bucket?lifecycle"
    assert bodies[0] == b"<Tagging><TagSet/></Tagging>"
    assert request.headers["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={REMOTE_KEY}/")
    assert "/us-east-1/s3/aws4_request" in request.headers["Authorization"]
    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(bodies[0]).hexdigest()
    assert request.headers["Content-MD5"] == base64.b64encode(body.md5).decode()
    assert request.headers["x-amz-checksum-crc32"] == dict(body.checksums)["CRC32"]
    assert request.headers["x-amz-expected-bucket-owner"] == "123456789012"
    assert request.headers["Content-Type"] == "application/xml"
    assert REMOTE_SECRET not in str(dict(request.headers))


async def test_oversized_body_is_refused(
    recorder: tuple[str, list[web.Request], list[bytes]], stage: Stage
) -> None:
    url, seen, _ = recorder
    body = await stage(b"x" * (1024 * 1024), times=9)
    async with RemoteS3(remote_settings(url)) as remote:
        with pytest.raises(errors.MaxMessageLengthExceeded):
            await remote.forward(
                ops.Forwarded("PutBucketPolicy", "PUT", "b", None, (("policy", ""),)), body
            )
    assert seen == []


async def test_only_large_uploads_wait_for_100_continue(
    recorder: tuple[str, list[web.Request], list[bytes]], stage: Stage
) -> None:
    """Botocore asks every file upload to wait for ``100 Continue``, a round trip more;
    s3d keeps that for bodies of EXPECT_CONTINUE_FROM bytes and more."""
    url, seen, bodies = recorder
    small = await stage(b"s" * 4096)
    large = await stage(b"L" * EXPECT_CONTINUE_FROM)
    async with RemoteS3(remote_settings(url)) as remote:
        await remote.put_object(ops.PutObject("my-bucket", "small"), small)
        await remote.put_object(ops.PutObject("my-bucket", "large"), large)
        await remote.upload_part(ops.UploadPart("my-bucket", "part", "u1", 1), small)
    assert [(r.path, r.headers.get("Expect")) for r in seen] == [
        ("/my-bucket/small", None),
        ("/my-bucket/large", "100-continue"),
        ("/my-bucket/part", None),
    ]
    assert [len(b) for b in bodies] == [4096, EXPECT_CONTINUE_FROM, 4096]
