"""Bucket operations, listings and forwarded configuration operations through s3d."""

from __future__ import annotations

import urllib.parse
import uuid

import pytest
from botocore.exceptions import ClientError


def test_bucket_life_cycle(s3, remote) -> None:
    name = f"life-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert name in [b["Name"] for b in remote.list_buckets()["Buckets"]]
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert exc.value.response["Error"]["Code"] == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_create_bucket_with_location(s3) -> None:
    name = f"loc-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"


@pytest.fixture
def tree(s3, bucket) -> str:
    for key in ["a/1", "a/2", "a/b/3", "b/4", "c", "d e/5", "é/6", "plus+/7"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_list_v2_prefix_delimiter(s3, tree) -> None:
    top = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["c"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/", "d e/", "plus+/", "é/"]
    under_a = s3.list_objects_v2(Bucket=tree, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in under_a["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in under_a["CommonPrefixes"]] == ["a/b/"]
    assert under_a["KeyCount"] == 3


def test_list_v2_pagination_and_start_after(s3, tree) -> None:
    keys = []
    token = None
    pages = 0
    while True:
        kwargs = {"Bucket": tree, "MaxKeys": 3}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        pages += 1
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert pages == 3
    assert keys == sorted(keys)
    assert len(keys) == 8
    after = s3.list_objects_v2(Bucket=tree, StartAfter="b/4")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d e/5", "plus+/7", "é/6"]
    owner = s3.list_objects_v2(Bucket=tree, FetchOwner=True, MaxKeys=1)
    assert "Owner" in owner["Contents"][0]


def test_list_v1_markers(s3, tree) -> None:
    first = s3.list_objects(Bucket=tree, MaxKeys=2)
    assert first["IsTruncated"] is True
    rest = s3.list_objects(Bucket=tree, Marker=first["Contents"][-1]["Key"])
    assert len(first["Contents"]) + len(rest["Contents"]) == 8
    with_delim = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2)
    assert with_delim["IsTruncated"] is True
    assert "NextMarker" in with_delim


def test_list_encoding_type_url(s3, tree) -> None:
    # boto3 asks for encoding-type=url itself and decodes: keys come back exact.
    listed = s3.list_objects_v2(Bucket=tree)
    assert {o["Key"] for o in listed["Contents"]} >= {"d e/5", "é/6", "plus+/7"}
    # Asked for explicitly, botocore leaves the encoding alone: the wire form is visible.
    encoded = s3.list_objects_v2(Bucket=tree, EncodingType="url", Delimiter="/")
    assert encoded["EncodingType"] == "url"
    prefixes = [p["Prefix"] for p in encoded["CommonPrefixes"]]
    assert [urllib.parse.unquote_plus(p) for p in prefixes] == ["a/", "b/", "d e/", "plus+/", "é/"]
    assert {"d+e/", "plus%2B/", "%C3%A9/"} <= set(prefixes)


def test_multipart_family(s3, remote, bucket) -> None:
    import os

    source = os.urandom(6 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", Metadata={"m": "1"})
    upload_id = up["UploadId"]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big", upload_id)]
    part1 = os.urandom(5 * 1024 * 1024)
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload_id, PartNumber=1, Body=part1)
    e2 = s3.upload_part_copy(
        Bucket=bucket,
        Key="big",
        UploadId=upload_id,
        PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "source"},
        CopySourceRange="bytes=100-1099",
    )
    parts = s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(part1)), (2, 1000)]
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": e1["ETag"]},
                {"PartNumber": 2, "ETag": e2["CopyPartResult"]["ETag"]},
            ]
        },
    )
    assert done["ETag"].endswith('-2"')
    stored = remote.get_object(Bucket=bucket, Key="big")
    assert stored["Body"].read() == part1 + source[100:1100]
    assert stored["Metadata"] == {"m": "1"}
    assert stored["ETag"] == done["ETag"]
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="gone")
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted["UploadId"])
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="gone", UploadId=aborted["UploadId"])
    assert exc.value.response["Error"]["Code"] == "NoSuchUpload"


def test_complete_with_wrong_etag_is_invalid_part(s3, bucket) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="bad")
    s3.upload_part(Bucket=bucket, Key="bad", UploadId=up["UploadId"], PartNumber=1, Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="bad",
            UploadId=up["UploadId"],
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]
            },
        )
    assert exc.value.response["Error"]["Code"] == "InvalidPart"


def test_forwarded_configuration_operations(s3, remote, bucket) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert remote.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"two")
    assert s3.get_object(Bucket=bucket, Key="v", VersionId=v1)["Body"].read() == b"one"
    versions = s3.list_object_versions(Bucket=bucket, Prefix="v")["Versions"]
    assert len(versions) == 2
    acl = s3.get_object_acl(Bucket=bucket, Key="v")
    assert acl["Grants"]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "s3d"}]})
    assert remote.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "s3d"}]
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedMethods"] == ["GET"]
