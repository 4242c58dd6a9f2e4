"""RemoteS3 and EmbeddedRemote as components: open, close twice, addressing, conformance."""

from __future__ import annotations

import socket

import pytest

from s3d.protocol import errors
from s3d.protocol import operations as ops
from s3d.remote.client import RemoteS3
from s3d.remote.connect import client_arguments
from s3d.remote.embedded import EmbeddedRemote
from tests.remote.conftest import remote_settings


async def test_closed_client_refuses_calls_and_closes_twice(remote_url: str) -> None:
    remote = RemoteS3(remote_settings(remote_url))
    async with remote:
        await remote.list_buckets(ops.ListBuckets())
    await remote.aclose()
    with pytest.raises(errors.ServiceUnavailable, match="closed"):
        await remote.list_buckets(ops.ListBuckets())
    with pytest.raises(errors.ServiceUnavailable, match="closed"):
        await remote.forward(ops.Forwarded("GetBucketAcl", "GET", "b", None), None)


async def test_embedded_remote_serves_then_releases_its_port() -> None:
    embedded = EmbeddedRemote()
    async with embedded:
        assert embedded.endpoint_url.startswith("http://127.0.0.1:")
        async with RemoteS3(remote_settings(embedded.endpoint_url)) as remote:
            await remote.create_bucket(ops.CreateBucket("embedded-bucket"))
            listed = await remote.list_buckets(ops.ListBuckets())
            assert "embedded-bucket" in [b.name for b in listed.buckets]
    await embedded.aclose()
    port = int(embedded.endpoint_url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_aws_means_botocore_endpoint_resolution() -> None:
    settings = remote_settings("aws", verify_tls=False)
    arguments = client_arguments(settings)
    assert arguments["endpoint_url"] is None
    assert arguments["verify"] is False
    config = arguments["config"]
    assert config.s3 == {"addressing_style": "path", "payload_signing_enabled": False}
    assert config.request_checksum_calculation == "when_required"
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("virtual", "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c%2B"),
        ("path", "https://s3.eu-west-1.amazonaws.com/my-bucket/a%20b/c%2B"),
    ],
)
async def test_forward_addresses_aws_like_the_client(style: str, expected: str) -> None:
    settings = remote_settings("aws", region="eu-west-1", addressing_style=style)
    async with RemoteS3(settings) as remote:
        assert remote._forwarder is not None
        url = await remote._forwarder.url(
            ops.Forwarded("GetObjectAcl", "GET", "my-bucket", "a b/c+", (("acl", ""),))
        )
    assert url == f"{expected}?acl"
