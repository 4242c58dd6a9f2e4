"""Object operations through RemoteS3 against a real moto server."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from s3d.protocol import errors
from s3d.protocol import operations as ops
from s3d.protocol.model import header
from s3d.protocol.ranges import ByteRange
from s3d.remote.client import RemoteS3
from tests.remote.conftest import Stage, read_all

DATA = bytes(range(256)) * 40  # 10 KiB
KEY = "dir/obj ü+%.bin"


async def put(remote: RemoteS3, bucket: str, stage: Stage, key: str = KEY, **kw: object) -> str:
    body = await stage(DATA)
    result = await remote.put_object(ops.PutObject(bucket, key, **kw), body)  # type: ignore[arg-type]
    etag = header(result.headers, "etag")
    assert etag is not None
    return etag


async def test_put_sends_parameter_headers_and_head_returns_them(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage, remote: Any
) -> None:
    headers = (
        ("content-type", "application/x-test"),
        ("cache-control", "max-age=60"),
        ("content-disposition", 'attachment; filename="x.bin"'),
        ("content-language", "de"),
        ("expires", "Wed, 21 Oct 2037 07:28:00 GMT"),
        ("x-amz-meta-colour", "blue"),
        ("x-amz-meta-shape", "round"),
        ("x-amz-tagging", "project=s3d&tier=gold"),
        ("x-amz-storage-class", "STANDARD_IA"),
        ("content-md5", "bm90IHRoZSByaWdodCBvbmU="),  # s3d's own digest wins
    )
    etag = await put(remote_s3, remote_bucket, stage, headers=headers)
    assert etag == f'"{hashlib.md5(DATA).hexdigest()}"'

    head = await remote_s3.get_object(ops.GetObject(remote_bucket, KEY, head=True))
    got = dict(head.headers)
    assert head.status == 200
    assert head.body is None
    assert got["content-type"] == "application/x-test"
    assert got["cache-control"] == "max-age=60"
    assert got["content-disposition"] == 'attachment; filename="x.bin"'
    assert got["content-language"] == "de"
    assert got["expires"] == "Wed, 21 Oct 2037 07:28:00 GMT"
    assert got["x-amz-meta-colour"] == "blue"
    assert got["x-amz-meta-shape"] == "round"
    assert got["x-amz-tagging-count"] == "2"
    assert got["x-amz-storage-class"] == "STANDARD_IA"
    assert got["content-length"] == str(len(DATA))
    assert got["etag"] == etag
    for remote_own in ("x-amz-request-id", "x-amz-id-2", "date", "server", "content-md5"):
        assert remote_own not in got
    # moto keeps the request's Content-MD5 and echoes it: s3d sent its own digest.
    direct = remote.head_object(Bucket=remote_bucket, Key=KEY)["ResponseMetadata"]["HTTPHeaders"]
    assert direct["content-md5"] == base64.b64encode(hashlib.md5(DATA).digest()).decode()


async def test_put_sends_verified_checksum(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    body = await stage(DATA, checksums=("CRC32",))
    result = await remote_s3.put_object(ops.PutObject(remote_bucket, "crc"), body)
    crc = dict(body.checksums)["CRC32"]
    assert header(result.headers, "x-amz-checksum-crc32") == crc
    head = await remote_s3.get_object(
        ops.GetObject(
            remote_bucket, "crc", head=True, headers=(("x-amz-checksum-mode", "ENABLED"),)
        )
    )
    assert header(head.headers, "x-amz-checksum-crc32") == crc


async def test_get_streams_whole_object(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    await put(remote_s3, remote_bucket, stage)
    answer = await remote_s3.get_object(ops.GetObject(remote_bucket, KEY))
    assert answer.status == 200
    assert header(answer.headers, "content-length") == str(len(DATA))
    assert await read_all(answer.body) == DATA


async def test_ranged_get_is_partial(remote_s3: RemoteS3, remote_bucket: str, stage: Stage) -> None:
    await put(remote_s3, remote_bucket, stage)
    answer = await remote_s3.get_object(
        ops.GetObject(remote_bucket, KEY, range=ByteRange(100, 1099))
    )
    assert answer.status == 206
    assert header(answer.headers, "content-range") == f"bytes 100-1099/{len(DATA)}"
    assert header(answer.headers, "content-length") == "1000"
    assert await read_all(answer.body) == DATA[100:1100]

    suffix = await remote_s3.get_object(
        ops.GetObject(remote_bucket, KEY, range=ByteRange(None, 10))
    )
    assert suffix.status == 206
    assert await read_all(suffix.body) == DATA[-10:]


async def test_range_beyond_the_end_is_invalid_range(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    await put(remote_s3, remote_bucket, stage)
    with pytest.raises(errors.InvalidRange):
        await remote_s3.get_object(ops.GetObject(remote_bucket, KEY, range=ByteRange(10**6, None)))


@pytest.mark.parametrize("head", [False, True])
async def test_conditional_get(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage, head: bool
) -> None:
    etag = await put(remote_s3, remote_bucket, stage)
    with pytest.raises(errors.NotModified):
        await remote_s3.get_object(
            ops.GetObject(remote_bucket, KEY, head=head, headers=(("if-none-match", etag),))
        )
    with pytest.raises(errors.PreconditionFailed):
        await remote_s3.get_object(
            ops.GetObject(remote_bucket, KEY, head=head, headers=(("if-match", '"0000"'),))
        )
    with pytest.raises(errors.NotModified):
        await remote_s3.get_object(
            ops.GetObject(
                remote_bucket,
                KEY,
                head=head,
                headers=(("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT"),),
            )
        )
    matched = await remote_s3.get_object(
        ops.GetObject(remote_bucket, KEY, head=head, headers=(("if-match", etag),))
    )
    assert matched.status == 200
    if not head:
        assert await read_all(matched.body) == DATA


async def test_response_overrides(remote_s3: RemoteS3, remote_bucket: str, stage: Stage) -> None:
    await put(remote_s3, remote_bucket, stage)
    answer = await remote_s3.get_object(
        ops.GetObject(
            remote_bucket,
            KEY,
            overrides=(("content-type", "text/x-override"), ("cache-control", "no-store")),
        )
    )
    await read_all(answer.body)
    assert header(answer.headers, "content-type") == "text/x-override"
    assert header(answer.headers, "cache-control") == "no-store"


async def test_missing_key_and_bucket(remote_s3: RemoteS3, remote_bucket: str) -> None:
    with pytest.raises(errors.NoSuchKey) as raised:
        await remote_s3.get_object(ops.GetObject(remote_bucket, "absent"))
    assert raised.value.details.get("Key") == "absent"
    with pytest.raises(errors.NoSuchKey):
        await remote_s3.get_object(ops.GetObject(remote_bucket, "absent", head=True))
    with pytest.raises(errors.NoSuchBucket):
        await remote_s3.get_object(ops.GetObject("no-such-bucket-s3d", "absent"))


async def test_put_if_none_match_refuses_overwrite(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    await put(remote_s3, remote_bucket, stage)
    with pytest.raises(errors.PreconditionFailed):
        await put(remote_s3, remote_bucket, stage, headers=(("if-none-match", "*"),))


async def test_copy_replacing_metadata(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    etag = await put(
        remote_s3, remote_bucket, stage, headers=(("x-amz-meta-old", "1"), ("content-type", "a/b"))
    )
    result = await remote_s3.copy_object(
        ops.CopyObject(
            remote_bucket,
            "copy",
            ops.CopySource(remote_bucket, KEY),
            headers=(
                ("x-amz-metadata-directive", "REPLACE"),
                ("x-amz-meta-new", "2"),
                ("content-type", "c/d"),
            ),
        )
    )
    assert result.etag == etag
    assert not result.part
    assert result.last_modified.tzinfo is not None
    head = dict(
        (await remote_s3.get_object(ops.GetObject(remote_bucket, "copy", head=True))).headers
    )
    assert head["x-amz-meta-new"] == "2"
    assert "x-amz-meta-old" not in head
    assert head["content-type"] == "c/d"


async def test_copy_keeps_metadata_by_default(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    await put(remote_s3, remote_bucket, stage, headers=(("x-amz-meta-old", "1"),))
    await remote_s3.copy_object(
        ops.CopyObject(remote_bucket, "copy2", ops.CopySource(remote_bucket, KEY))
    )
    head = await remote_s3.get_object(ops.GetObject(remote_bucket, "copy2", head=True))
    assert header(head.headers, "x-amz-meta-old") == "1"


async def test_copy_from_missing_source(remote_s3: RemoteS3, remote_bucket: str) -> None:
    with pytest.raises(errors.NoSuchKey):
        await remote_s3.copy_object(
            ops.CopyObject(remote_bucket, "c", ops.CopySource(remote_bucket, "absent"))
        )


async def test_delete_object(remote_s3: RemoteS3, remote_bucket: str, stage: Stage) -> None:
    await put(remote_s3, remote_bucket, stage)
    result = await remote_s3.delete_object(ops.DeleteObject(remote_bucket, KEY))
    assert result.status == 204
    with pytest.raises(errors.NoSuchKey):
        await remote_s3.get_object(ops.GetObject(remote_bucket, KEY, head=True))


async def test_tagging_round_trip(remote_s3: RemoteS3, remote_bucket: str, stage: Stage) -> None:
    await put(remote_s3, remote_bucket, stage)
    tags = (("a", "1"), ("b c", "ü/2"))
    await remote_s3.put_object_tagging(ops.PutObjectTagging(remote_bucket, KEY, tags))
    got = await remote_s3.get_object_tagging(ops.GetObjectTagging(remote_bucket, KEY))
    assert sorted(got.tags) == sorted(tags)
    await remote_s3.delete_object_tagging(ops.DeleteObjectTagging(remote_bucket, KEY))
    assert (await remote_s3.get_object_tagging(ops.GetObjectTagging(remote_bucket, KEY))).tags == ()


async def test_unparsable_condition_date_is_ignored_as_s3_does(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    await put(remote_s3, remote_bucket, stage)
    answer = await remote_s3.get_object(
        ops.GetObject(remote_bucket, KEY, headers=(("if-modified-since", "yesterday"),))
    )
    assert await read_all(answer.body) == DATA


async def test_bad_integer_header_is_invalid_argument(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    with pytest.raises(errors.InvalidArgument) as raised:
        await put(
            remote_s3,
            remote_bucket,
            stage,
            headers=(("x-amz-object-lock-retain-until-date", "not a date"),),
        )
    assert raised.value.details == {"ArgumentName": "x-amz-object-lock-retain-until-date"}


async def test_vanished_staged_body_is_internal_error(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    body = await stage(DATA)
    body.path.unlink()
    with pytest.raises(errors.InternalError):
        await remote_s3.put_object(ops.PutObject(remote_bucket, "gone"), body)
