"""Answers s3d gives in write-through as S3 gives them: found by running ceph/s3-tests
through s3d in front of moto (real daemon, real moto, boto3)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.support import client


def test_sigv2_signed_bucket_requests_are_accepted(s3d, remote) -> None:  # type: ignore[no-untyped-def]
    # botocore signs a bucket-only path-style request as "/bucket/" and sends "/bucket".
    v2 = client(s3d.endpoint_url, signature_version="s3")
    name = f"v2-{uuid.uuid4().hex[:16]}"
    v2.create_bucket(Bucket=name)
    v2.head_bucket(Bucket=name)
    v2.put_object(Bucket=name, Key="k", Body=b"x")
    assert [o["Key"] for o in v2.list_objects(Bucket=name)["Contents"]] == ["k"]
    v2.delete_object(Bucket=name, Key="k")
    v2.delete_bucket(Bucket=name)
    with pytest.raises(ClientError):
        remote.head_bucket(Bucket=name)


def test_put_if_none_match_with_an_etag_is_not_implemented(s3, bucket) -> None:  # type: ignore[no-untyped-def]
    # S3 implements only "*" for a conditional write; moto ignores other values and writes.
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch=etag)
    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


def test_not_modified_keeps_the_remote_etag(s3, bucket) -> None:  # type: ignore[no-untyped-def]
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    answer = caught.value.response["ResponseMetadata"]
    assert answer["HTTPStatusCode"] == 304
    assert answer["HTTPHeaders"].get("etag") == etag


def test_a_key_behind_a_delete_marker_says_so(s3, bucket) -> None:  # type: ignore[no-untyped-def]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="k")
    answer = caught.value.response["ResponseMetadata"]
    assert answer["HTTPStatusCode"] == 404
    assert answer["HTTPHeaders"].get("x-amz-delete-marker") == "true"
    assert answer["HTTPHeaders"].get("x-amz-version-id") == marker["VersionId"]
