"""Write-back answers as S3 (and moto) answer: found by running ceph/s3-tests through s3d.

Each test drives a real write-back daemon in front of moto through a relay that can hold
writes, with boto3, and checks an answer that used to differ from the remote's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

from tests.journal.test_writeback import drained, new_bucket, state, writeback
from tests.support import client

MiB = 1024 * 1024


@contextmanager
def writes_held(relay, after: float = 1.0) -> Iterator[Callable[[], None]]:  # type: ignore[no-untyped-def]
    """Writes held in the relay; yields a function that lets them pass ``after`` seconds
    later (while the request under test waits on them)."""
    relay.hold_writes(True)
    release = threading.Timer(after, relay.hold_writes, (False,))
    try:
        yield release.start
    finally:
        release.cancel()
        relay.hold_writes(False)


def test_second_completion_of_a_completed_upload_answers_200(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # An SDK retrying a completion whose answer was lost must get S3's 200, not NoSuchUpload.
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, Body=b"x")
        parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        first = s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload, MultipartUpload=parts
        )
        again = s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload, MultipartUpload=parts
        )
        assert again["ETag"] == first["ETag"]
        assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
        other = s3.create_multipart_upload(Bucket=bucket, Key="other")["UploadId"]
        s3.abort_multipart_upload(Bucket=bucket, Key="other", UploadId=other)
        with pytest.raises(ClientError) as aborted:
            s3.complete_multipart_upload(
                Bucket=bucket, Key="other", UploadId=other, MultipartUpload=parts
            )
        assert aborted.value.response["Error"]["Code"] == "NoSuchUpload"
        drained(daemon)


def test_part_copied_from_an_sse_c_source_into_a_local_upload(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    key = os.urandom(32)
    sse = {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }
    source = os.urandom(6 * MiB)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=bucket, Key="src", Body=source, **sse)
        upload = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
        copied = s3.upload_part_copy(
            Bucket=bucket,
            Key="dst",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceRange=f"bytes=0-{5 * MiB - 1}",
            **{"CopySource" + name: value for name, value in sse.items()},
        )
        etag = copied["CopyPartResult"]["ETag"]
        assert etag == f'"{hashlib.md5(source[: 5 * MiB]).hexdigest()}"'
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="dst",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
        )
        drained(daemon)
    assert remote.get_object(Bucket=bucket, Key="dst")["Body"].read() == source[: 5 * MiB]


def test_head_of_a_pending_object_counts_its_pending_tags(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        try:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x")
            tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
            s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tags})
            head = s3.head_object(Bucket=bucket, Key="k")
            assert state(head) == "pending"
            assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
            got = s3.get_object(Bucket=bucket, Key="k")
            assert got["TagCount"] == 2
            s3.delete_object_tagging(Bucket=bucket, Key="k")
            head = s3.head_object(Bucket=bucket, Key="k")
            assert "x-amz-tagging-count" not in head["ResponseMetadata"]["HTTPHeaders"]
        finally:
            relay.hold_writes(False)
        drained(daemon)


def test_object_acl_of_a_pending_object_is_answered_after_its_upload(
    relay, remote, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        with writes_held(relay) as release_soon:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x")
            assert state(s3.head_object(Bucket=bucket, Key="k")) == "pending"
            release_soon()
            acl = s3.get_object_acl(Bucket=bucket, Key="k")
            assert acl["Grants"], acl
        drained(daemon)
