"""Object operations through s3d with boto3, checked both through s3d and on the remote."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from tests.support import client

CHECKSUM_MODES = ["when_supported", "when_required"]


@pytest.fixture(params=CHECKSUM_MODES)
def s3c(request, s3d):
    """boto3 with each request checksum setting: default (CRC32) and when_required."""
    return client(s3d.endpoint_url, request_checksum_calculation=request.param)


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_put_get_head_keep_headers_and_metadata(s3c, remote, bucket) -> None:
    body = os.urandom(100_000)
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    put = s3c.put_object(
        Bucket=bucket,
        Key="dir/ünïcode key+plus.bin",
        Body=body,
        ContentType="application/x-test",
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="x.bin"',
        ContentEncoding="identity",
        ContentLanguage="en-GB",
        Expires=expires,
        Metadata={"color": "blue", "n": "42"},
        Tagging="a=1&b=two",
        StorageClass="STANDARD_IA",
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    for view in (s3c, remote):
        head = view.head_object(Bucket=bucket, Key="dir/ünïcode key+plus.bin")
        assert head["ContentLength"] == len(body)
        assert head["ETag"] == put["ETag"]
        assert head["ContentType"] == "application/x-test"
        assert head["CacheControl"] == "max-age=60"
        assert head["ContentDisposition"] == 'attachment; filename="x.bin"'
        assert head["ContentLanguage"] == "en-GB"
        assert head["Metadata"] == {"color": "blue", "n": "42"}
        assert head["StorageClass"] == "STANDARD_IA"
        got = view.get_object(Bucket=bucket, Key="dir/ünïcode key+plus.bin")
        assert got["Body"].read() == body
        assert got["TagCount"] == 2
    tags = s3c.get_object_tagging(Bucket=bucket, Key="dir/ünïcode key+plus.bin")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "two")]


def test_content_encoding_gzip_is_stored_as_sent(s3, remote, bucket) -> None:
    import gzip

    raw = gzip.compress(b"hello " * 1000)
    s3.put_object(Bucket=bucket, Key="z.gz", Body=raw, ContentEncoding="gzip")
    stored = remote.get_object(Bucket=bucket, Key="z.gz")
    assert stored["ContentEncoding"] == "gzip"
    assert stored["Body"].read() == raw


def test_empty_object(s3c, bucket) -> None:
    put = s3c.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3c.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentLength"] == 0


def test_ranges(s3, bucket) -> None:
    body = bytes(range(256)) * 40
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    part = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert part["Body"].read() == body[10:20]
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    assert (
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10200-")["Body"].read() == body[10200:]
    )
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range=f"bytes={len(body)}-")
    assert error_code(exc) == "InvalidRange"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_conditional_get(s3, bucket) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"data")["ETag"]
    head = s3.head_object(Bucket=bucket, Key="c")
    modified = head["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"data"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert error_code(exc) == "PreconditionFailed"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified + dt.timedelta(hours=1))
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified - dt.timedelta(hours=1))
    assert error_code(exc) == "PreconditionFailed"
    ok = s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified - dt.timedelta(hours=1))
    assert ok["Body"].read() == b"data"


def test_response_overrides(s3, bucket) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket,
        Key="o",
        ResponseContentType="application/json",
        ResponseContentDisposition="inline",
        ResponseCacheControl="no-cache",
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "no-cache"


def test_conditional_put(s3, remote, bucket) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch="*")
    assert error_code(exc) == "PreconditionFailed"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"three", IfMatch='"ffff"')
    assert error_code(exc) == "PreconditionFailed"
    s3.put_object(Bucket=bucket, Key="k", Body=b"four", IfMatch=etag)
    assert remote.get_object(Bucket=bucket, Key="k")["Body"].read() == b"four"


def test_copy_object_directives(s3, remote, bucket) -> None:
    etag = s3.put_object(
        Bucket=bucket, Key="src", Body=b"copy me", Metadata={"a": "1"}, Tagging="t=1"
    )["ETag"]
    copied = s3.copy_object(Bucket=bucket, Key="same", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == etag
    assert remote.head_object(Bucket=bucket, Key="same")["Metadata"] == {"a": "1"}
    s3.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/x-new",
        TaggingDirective="REPLACE",
        Tagging="u=2",
    )
    head = remote.head_object(Bucket=bucket, Key="replaced")
    assert head["Metadata"] == {"b": "2"}
    assert head["ContentType"] == "text/x-new"
    tags = s3.get_object_tagging(Bucket=bucket, Key="replaced")["TagSet"]
    assert tags == [{"Key": "u", "Value": "2"}]
    with pytest.raises(ClientError) as exc:
        s3.copy_object(
            Bucket=bucket,
            Key="never",
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceIfMatch='"0123"',
        )
    assert error_code(exc) == "PreconditionFailed"
    with pytest.raises(ClientError):
        remote.head_object(Bucket=bucket, Key="never")


def test_delete_and_delete_objects(s3, remote, bucket) -> None:
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d/{i}", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="d/0")
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="d/0")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    verbose = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/1"}, {"Key": "d/2"}]})
    assert sorted(d["Key"] for d in verbose["Deleted"]) == ["d/1", "d/2"]
    quiet = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "d/3"}, {"Key": "d/4"}], "Quiet": True}
    )
    assert "Deleted" not in quiet
    assert remote.list_objects_v2(Bucket=bucket, Prefix="d/").get("KeyCount") == 0


def test_get_missing_key_and_bucket(s3, bucket) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="missing")
    assert error_code(exc) == "NoSuchKey"
    assert exc.value.response["Error"]["Key"] == "missing"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="no-such-bucket-s3d", Key="missing")
    assert error_code(exc) == "NoSuchBucket"
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]


def test_tagging_operations(s3, bucket) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    s3.put_object_tagging(
        Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "k", "Value": "v w"}]}
    )
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "k", "Value": "v w"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_odd_keys_round_trip(s3, s3d, remote, bucket) -> None:
    keys = [
        "a/../b",
        "a//b",
        "/leading",
        "./dot",
        "..",
        "percent%2Fencoded",
        "space and+plus",
        "日本語/ключ/ü",
        "tab\there",
        "q?mark#hash&amp=",
        "~tilde!*'()",
    ]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    listed = [o["Key"] for o in remote.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted(keys)
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
        assert remote.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    # Keys never become local paths: nothing named after them under the data directory,
    # and no staged body outlives its request.
    on_disk = {p.name for p in s3d.settings.data_dir.rglob("*")}
    assert not on_disk & {k.rsplit("/", 1)[-1] for k in keys}
    assert list((s3d.settings.data_dir / "staging").iterdir()) == []


def test_part_number(s3, bucket) -> None:
    # Part 1 of an object uploaded in one piece is the whole object, as S3 answers it.
    s3.put_object(Bucket=bucket, Key="single", Body=b"0123456789")
    whole = s3.get_object(Bucket=bucket, Key="single", PartNumber=1)
    assert whole["Body"].read() == b"0123456789"
    assert whole["ContentRange"] == "bytes 0-9/10"
    for bad in (0, 10001):
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key="single", PartNumber=bad)
        assert error_code(exc) == "InvalidArgument"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="single", PartNumber=1, Range="bytes=0-1")
    assert error_code(exc) == "InvalidRequest"
