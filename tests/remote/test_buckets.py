"""Bucket operations, listings and DeleteObjects through RemoteS3 against a real moto server."""

from __future__ import annotations

import uuid

import pytest

from s3d.protocol import errors
from s3d.protocol import operations as ops
from s3d.protocol.model import header
from s3d.remote.client import RemoteS3
from tests.remote.conftest import Stage

ODD_KEYS = ("a b.txt", "dir/ü ñ.txt", "dir/plus+sign", "dir/per%cent", "dir/sub/deep", "z")


async def fill(remote: RemoteS3, bucket: str, stage: Stage, keys: tuple[str, ...]) -> None:
    for key in keys:
        await remote.put_object(ops.PutObject(bucket, key), await stage(key.encode()))


async def test_bucket_lifecycle(remote_s3: RemoteS3, stage: Stage) -> None:
    name = f"life-{uuid.uuid4().hex[:12]}"
    created = await remote_s3.create_bucket(ops.CreateBucket(name))
    assert created.status == 200
    head = await remote_s3.head_bucket(ops.HeadBucket(name))
    assert header(head.headers, "x-amz-bucket-region") == "us-east-1"
    assert (await remote_s3.get_bucket_location(ops.GetBucketLocation(name))).region is None
    listed = await remote_s3.list_buckets(ops.ListBuckets())
    assert name in [b.name for b in listed.buckets]
    assert all(b.created.tzinfo is not None for b in listed.buckets)

    await fill(remote_s3, name, stage, ("k",))
    with pytest.raises(errors.BucketNotEmpty):
        await remote_s3.delete_bucket(ops.DeleteBucket(name))
    await remote_s3.delete_object(ops.DeleteObject(name, "k"))
    deleted = await remote_s3.delete_bucket(ops.DeleteBucket(name))
    assert deleted.status == 204
    with pytest.raises(errors.NoSuchBucket):
        await remote_s3.head_bucket(ops.HeadBucket(name))
    with pytest.raises(errors.NoSuchBucket):
        await remote_s3.list_objects(ops.ListObjects(name))


async def test_create_bucket_in_a_region(remote_s3: RemoteS3) -> None:
    name = f"eu-{uuid.uuid4().hex[:12]}"
    await remote_s3.create_bucket(ops.CreateBucket(name, location_constraint="eu-west-1"))
    location = await remote_s3.get_bucket_location(ops.GetBucketLocation(name))
    assert location.region == "eu-west-1"


async def test_location_of_missing_bucket(remote_s3: RemoteS3) -> None:
    with pytest.raises(errors.NoSuchBucket):
        await remote_s3.get_bucket_location(ops.GetBucketLocation("no-such-bucket-s3d"))


@pytest.mark.parametrize("version", [1, 2])
async def test_list_odd_keys_come_back_decoded(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage, version: int
) -> None:
    await fill(remote_s3, remote_bucket, stage, ODD_KEYS)
    listed = await remote_s3.list_objects(
        ops.ListObjects(remote_bucket, version=version, encoding_type="url")
    )
    assert [entry.key for entry in listed.contents] == sorted(ODD_KEYS)
    assert listed.encoding_type == "url"  # the client's choice, for the renderer
    assert listed.contents[0].etag.startswith('"')
    assert listed.contents[0].size == len(b"a b.txt")


@pytest.mark.parametrize("version", [1, 2])
async def test_list_prefix_and_delimiter(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage, version: int
) -> None:
    await fill(remote_s3, remote_bucket, stage, ODD_KEYS)
    listed = await remote_s3.list_objects(
        ops.ListObjects(remote_bucket, version=version, prefix="dir/", delimiter="/")
    )
    assert [e.key for e in listed.contents] == ["dir/per%cent", "dir/plus+sign", "dir/ü ñ.txt"]
    assert listed.common_prefixes == ("dir/sub/",)
    assert listed.prefix == "dir/"
    assert listed.delimiter == "/"


async def test_list_v2_pages(remote_s3: RemoteS3, remote_bucket: str, stage: Stage) -> None:
    await fill(remote_s3, remote_bucket, stage, ODD_KEYS)
    seen: list[str] = []
    token: str | None = None
    for _ in range(10):
        page = await remote_s3.list_objects(
            ops.ListObjects(remote_bucket, version=2, max_keys=2, continuation_token=token)
        )
        seen += [e.key for e in page.contents]
        assert page.continuation_token == token
        if not page.is_truncated:
            break
        token = page.next_continuation_token
        assert token
    assert seen == sorted(ODD_KEYS)


async def test_list_v1_pages_by_marker(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    await fill(remote_s3, remote_bucket, stage, ODD_KEYS)
    seen: list[str] = []
    marker: str | None = None
    for _ in range(10):
        page = await remote_s3.list_objects(
            ops.ListObjects(remote_bucket, max_keys=2, marker=marker)
        )
        seen += [e.key for e in page.contents]
        if not page.is_truncated:
            break
        marker = page.next_marker or page.contents[-1].key
    assert seen == sorted(ODD_KEYS)


async def test_list_v2_start_after(remote_s3: RemoteS3, remote_bucket: str, stage: Stage) -> None:
    await fill(remote_s3, remote_bucket, stage, ODD_KEYS)
    page = await remote_s3.list_objects(
        ops.ListObjects(remote_bucket, version=2, start_after="dir/plus+sign")
    )
    assert [e.key for e in page.contents] == ["dir/sub/deep", "dir/ü ñ.txt", "z"]
    assert page.start_after == "dir/plus+sign"


async def test_list_uploads_with_odd_keys(remote_s3: RemoteS3, remote_bucket: str) -> None:
    keys = ("up/a b", "up/ü+%", "other")
    for key in keys:
        await remote_s3.create_multipart_upload(ops.CreateMultipartUpload(remote_bucket, key))
    listed = await remote_s3.list_multipart_uploads(
        ops.ListMultipartUploads(remote_bucket, prefix="up/")
    )
    assert sorted(u.key for u in listed.uploads) == ["up/a b", "up/ü+%"]
    assert all(u.initiated.tzinfo is not None for u in listed.uploads)


@pytest.mark.parametrize("quiet", [False, True])
async def test_delete_objects(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage, quiet: bool
) -> None:
    await fill(remote_s3, remote_bucket, stage, ODD_KEYS)
    doomed = ("a b.txt", "dir/plus+sign", "never-existed")
    result = await remote_s3.delete_objects(
        ops.DeleteObjects(
            remote_bucket, tuple(ops.ObjectIdentifier(k) for k in doomed), quiet=quiet
        )
    )
    assert result.errors == ()
    assert result.quiet is quiet
    if quiet:
        assert result.deleted == ()
    else:
        assert sorted(d.key for d in result.deleted) == sorted(doomed)
    left = await remote_s3.list_objects(ops.ListObjects(remote_bucket, version=2))
    assert [e.key for e in left.contents] == sorted(set(ODD_KEYS) - set(doomed))


async def test_delete_objects_in_missing_bucket(remote_s3: RemoteS3) -> None:
    with pytest.raises(errors.NoSuchBucket):
        await remote_s3.delete_objects(
            ops.DeleteObjects("no-such-bucket-s3d", (ops.ObjectIdentifier("k"),))
        )
