"""Unsigned requests: refused by default, reads only with ``anonymous = "read"``, everything
with ``anonymous = "read-write"``; signatures are still checked whenever one is sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support import DaemonThread, client, daemon_settings, s3_error_code, send


def unsigned_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(
            signature_version=botocore.UNSIGNED,
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


@pytest.fixture(scope="module")
def daemons(
    remote_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, DaemonThread]]:
    """One daemon per anonymous setting, in front of the same remote."""
    with ExitStack() as stack:
        running: dict[str, DaemonThread] = {}
        for mode in ("off", "read", "read-write"):
            data_dir: Path = tmp_path_factory.mktemp(f"anon-{mode}")
            settings = daemon_settings(remote_url, data_dir, anonymous=mode)
            running[mode] = stack.enter_context(DaemonThread(settings))
        yield running


@pytest.fixture
def seeded(remote) -> str:
    """A bucket holding one object, written straight to the remote."""
    name = f"anon-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=name)
    remote.put_object(Bucket=name, Key="public.txt", Body=b"readable")
    return name


def refused(operation) -> str:
    with pytest.raises(ClientError) as exc:
        operation()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    return str(exc.value.response["Error"]["Code"])


def test_default_refuses_every_unsigned_request(daemons, seeded, remote) -> None:
    endpoint = daemons["off"].endpoint_url
    anon = unsigned_client(endpoint)
    assert refused(lambda: anon.get_object(Bucket=seeded, Key="public.txt")) == "AccessDenied"
    assert refused(lambda: anon.list_objects_v2(Bucket=seeded)) == "AccessDenied"
    assert refused(lambda: anon.put_object(Bucket=seeded, Key="new", Body=b"x")) == ("AccessDenied")
    assert refused(lambda: anon.delete_object(Bucket=seeded, Key="public.txt")) == ("AccessDenied")
    # HEAD has no body to name the code: the status says it.
    refused(lambda: anon.head_object(Bucket=seeded, Key="public.txt"))
    status, headers, body = send("GET", f"{endpoint}/{seeded}/public.txt", {})
    assert (status, s3_error_code(body)) == (403, "AccessDenied")
    assert headers["x-amz-request-id"]
    assert [o["Key"] for o in remote.list_objects_v2(Bucket=seeded)["Contents"]] == ["public.txt"]
    # Signed requests are served as always.
    signed = client(endpoint)
    assert signed.get_object(Bucket=seeded, Key="public.txt")["Body"].read() == b"readable"


def test_read_allows_unsigned_reads_only(daemons, seeded, remote) -> None:
    endpoint = daemons["read"].endpoint_url
    anon = unsigned_client(endpoint)
    assert anon.get_object(Bucket=seeded, Key="public.txt")["Body"].read() == b"readable"
    assert anon.get_object(Bucket=seeded, Key="public.txt", Range="bytes=0-3")["Body"].read() == (
        b"read"
    )
    assert anon.head_object(Bucket=seeded, Key="public.txt")["ContentLength"] == 8
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=seeded)["Contents"]] == ["public.txt"]
    assert [o["Key"] for o in anon.list_objects(Bucket=seeded)["Contents"]] == ["public.txt"]
    status, _, body = send("GET", f"{endpoint}/{seeded}/public.txt", {})
    assert (status, body) == (200, b"readable")
    # Writes of every kind are refused, and nothing changes on the remote.
    assert refused(lambda: anon.put_object(Bucket=seeded, Key="new", Body=b"x")) == ("AccessDenied")
    assert refused(lambda: anon.delete_object(Bucket=seeded, Key="public.txt")) == ("AccessDenied")
    assert refused(
        lambda: anon.delete_objects(Bucket=seeded, Delete={"Objects": [{"Key": "public.txt"}]})
    ) == ("AccessDenied")
    assert refused(lambda: anon.create_multipart_upload(Bucket=seeded, Key="mp")) == (
        "AccessDenied"
    )
    assert refused(lambda: anon.create_bucket(Bucket=f"anon-new-{uuid.uuid4().hex[:8]}")) == (
        "AccessDenied"
    )
    assert refused(
        lambda: anon.copy_object(
            Bucket=seeded, Key="copy", CopySource={"Bucket": seeded, "Key": "public.txt"}
        )
    ) == ("AccessDenied")
    assert [o["Key"] for o in remote.list_objects_v2(Bucket=seeded)["Contents"]] == ["public.txt"]


def test_read_write_allows_unsigned_writes(daemons, seeded, remote) -> None:
    endpoint = daemons["read-write"].endpoint_url
    anon = unsigned_client(endpoint)
    anon.put_object(Bucket=seeded, Key="by-anonymous", Body=b"anonymous bytes")
    assert remote.get_object(Bucket=seeded, Key="by-anonymous")["Body"].read() == (
        b"anonymous bytes"
    )
    assert anon.get_object(Bucket=seeded, Key="by-anonymous")["Body"].read() == b"anonymous bytes"
    anon.copy_object(
        Bucket=seeded, Key="copied", CopySource={"Bucket": seeded, "Key": "by-anonymous"}
    )
    assert sorted(o["Key"] for o in anon.list_objects_v2(Bucket=seeded)["Contents"]) == [
        "by-anonymous",
        "copied",
        "public.txt",
    ]
    anon.delete_object(Bucket=seeded, Key="by-anonymous")
    anon.delete_objects(Bucket=seeded, Delete={"Objects": [{"Key": "copied"}]})
    assert [o["Key"] for o in remote.list_objects_v2(Bucket=seeded)["Contents"]] == ["public.txt"]
    status, _, _ = send("PUT", f"{endpoint}/{seeded}/raw", {}, b"raw unsigned put")
    assert status == 200
    assert remote.get_object(Bucket=seeded, Key="raw")["Body"].read() == b"raw unsigned put"


@pytest.mark.parametrize("mode", ["read", "read-write"])
def test_anonymous_access_does_not_excuse_a_bad_signature(daemons, seeded, mode) -> None:
    endpoint = daemons[mode].endpoint_url
    wrong = client(endpoint, secret="not-the-secret")
    with pytest.raises(ClientError) as exc:
        wrong.get_object(Bucket=seeded, Key="public.txt")
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    unknown = client(endpoint, key="AKIANOBODYKNOWS00000")
    with pytest.raises(ClientError) as exc:
        unknown.put_object(Bucket=seeded, Key="x", Body=b"x")
    assert exc.value.response["Error"]["Code"] == "InvalidAccessKeyId"
