"""``server.anonymous = "remote"``: unsigned requests are forwarded unsigned, so the remote's
own ACLs and bucket policies decide; the cache is never the answer, and the journal's pending
changes of the key reach the remote first. A real daemon in front of a real moto, whose S3
refuses an unsigned read of an object whose ACL is private (and allows one that is
public-read)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_anonymous import refused, unsigned_client
from tests.support import CountingRelay, DaemonThread, client, daemon_settings, send


@pytest.fixture(scope="module")
def forwarding(remote_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonThread]:
    settings = daemon_settings(
        remote_url, tmp_path_factory.mktemp("anon-remote"), mode="write-back", anonymous="remote"
    )
    with DaemonThread(settings) as daemon:
        yield daemon


@pytest.fixture
def acl_bucket(remote) -> str:
    """A bucket with a public-read object and a private one, written at the remote."""
    name = f"anon-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=name)
    remote.put_bucket_acl(Bucket=name, ACL="public-read")
    remote.put_object(Bucket=name, Key="public.txt", Body=b"for everyone", ACL="public-read")
    remote.put_object(Bucket=name, Key="private.txt", Body=b"for s3d only", ACL="private")
    return name


def test_the_remote_decides_unsigned_reads(forwarding, acl_bucket) -> None:
    endpoint = forwarding.endpoint_url
    anon = unsigned_client(endpoint)
    assert anon.get_object(Bucket=acl_bucket, Key="public.txt")["Body"].read() == b"for everyone"
    assert anon.head_object(Bucket=acl_bucket, Key="public.txt")["ContentLength"] == 12
    listed = anon.list_objects_v2(Bucket=acl_bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == ["private.txt", "public.txt"]
    # The private object, read (and cached) by a signed client first: the anonymous caller
    # gets the remote's refusal, never the cache's copy.
    signed = client(endpoint)
    assert signed.get_object(Bucket=acl_bucket, Key="private.txt")["Body"].read() == (
        b"for s3d only"
    )
    assert refused(lambda: anon.get_object(Bucket=acl_bucket, Key="private.txt")) == (
        "AccessDenied"
    )
    status, headers, _ = send("GET", f"{endpoint}/{acl_bucket}/private.txt", {})
    assert status == 403
    assert headers["x-amz-request-id"]


def test_off_refuses_what_the_remote_would_allow(remote_url, tmp_path, acl_bucket) -> None:
    with DaemonThread(daemon_settings(remote_url, tmp_path, anonymous="off")) as daemon:
        anon = unsigned_client(daemon.endpoint_url)
        assert refused(lambda: anon.get_object(Bucket=acl_bucket, Key="public.txt")) == (
            "AccessDenied"
        )


def test_an_unsigned_read_waits_for_the_pending_change_of_its_key(
    remote_url, tmp_path, acl_bucket
) -> None:
    with (
        CountingRelay(remote_url) as relay,
        DaemonThread(
            daemon_settings(relay.url, tmp_path, mode="write-back", anonymous="remote")
        ) as daemon,
    ):
        signed = client(daemon.endpoint_url)
        relay.hold_writes(True)
        signed.put_object(Bucket=acl_bucket, Key="public.txt", Body=b"newer", ACL="public-read")
        # Released only after the anonymous GET has been waiting: it must not read the
        # remote's older object meanwhile.
        release = threading.Timer(1.0, relay.hold_writes, (False,))
        release.start()
        try:
            anon = unsigned_client(daemon.endpoint_url)
            assert anon.get_object(Bucket=acl_bucket, Key="public.txt")["Body"].read() == b"newer"
        finally:
            release.join()


def test_an_unsigned_write_goes_through_unsigned(forwarding, remote, acl_bucket) -> None:
    endpoint = forwarding.endpoint_url
    remote.put_bucket_acl(Bucket=acl_bucket, ACL="public-read-write")
    signed = client(endpoint)
    assert signed.get_object(Bucket=acl_bucket, Key="public.txt")["Body"].read() == (
        b"for everyone"
    )  # now in s3d's cache
    anon = unsigned_client(endpoint)
    answer = anon.put_object(Bucket=acl_bucket, Key="public.txt", Body=b"anonymous bytes")
    assert "x-s3d-state" not in answer["ResponseMetadata"]["HTTPHeaders"]  # not journaled
    assert remote.get_object(Bucket=acl_bucket, Key="public.txt")["Body"].read() == (
        b"anonymous bytes"
    )
    # The cached copy was dropped: a signed reader sees the anonymous write.
    assert signed.get_object(Bucket=acl_bucket, Key="public.txt")["Body"].read() == (
        b"anonymous bytes"
    )
    big = bytes(range(256)) * 40_000  # over the 8 MiB a signed forwarded body may have
    anon.put_object(Bucket=acl_bucket, Key="big", Body=big)
    assert remote.get_object(Bucket=acl_bucket, Key="big")["Body"].read() == big
    anon.delete_object(Bucket=acl_bucket, Key="big")
    with pytest.raises(ClientError) as exc:
        remote.head_object(Bucket=acl_bucket, Key="big")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_s3d_own_apis_still_refuse_unsigned_calls(forwarding) -> None:
    status, _, _ = send("GET", f"{forwarding.endpoint_url}/_s3d/status", {})
    assert status in (401, 403)
