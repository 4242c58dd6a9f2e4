"""Botocore listing outputs, as literal dicts, become s3d's results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from s3d.protocol import operations as ops
from s3d.protocol.model import Owner
from s3d.remote import listings

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))


def test_parts_with_checksums_and_markers() -> None:
    out = {
        "Parts": [
            {
                "PartNumber": 3,
                "LastModified": WHEN,
                "ETag": '"p3"',
                "Size": 10,
                "ChecksumCRC32": "AAAAAA==",
                "ChecksumSHA256": "c2hh",
            }
        ],
        "NextPartNumberMarker": 3,
        "IsTruncated": True,
        "StorageClass": "STANDARD_IA",
        "Owner": {"ID": "o", "DisplayName": "me"},
        "Initiator": {"ID": "i"},
        "ChecksumAlgorithm": "CRC32",
        "ChecksumType": "COMPOSITE",
    }
    result = listings.list_parts(
        ops.ListParts("b", "k", "u", max_parts=1, part_number_marker=2), out
    )
    part = result.parts[0]
    assert (part.part_number, part.etag, part.size) == (3, '"p3"', 10)
    assert part.last_modified == WHEN
    assert part.last_modified.tzinfo is UTC
    assert part.checksums == (("CRC32", "AAAAAA=="), ("SHA256", "c2hh"))
    assert (result.part_number_marker, result.next_part_number_marker) == (2, 3)
    assert result.is_truncated
    assert result.max_parts == 1
    assert result.owner == Owner("o", "me")
    assert result.initiator == Owner("i")
    assert (result.checksum_algorithm, result.checksum_type) == ("CRC32", "COMPOSITE")
    assert result.storage_class == "STANDARD_IA"


def test_uploads_encoded_by_the_remote_are_decoded() -> None:
    out = {
        "EncodingType": "url",
        "Uploads": [{"Key": "a+b/%C3%BC%2B%25", "UploadId": "u1", "Initiated": WHEN}],
        "CommonPrefixes": [{"Prefix": "dir%2F"}],
        "NextKeyMarker": "a%20b",
        "IsTruncated": True,
    }
    result = listings.list_uploads(ops.ListMultipartUploads("b", encoding_type="url"), out)
    assert [u.key for u in result.uploads] == ["a b/ü+%"]
    assert result.common_prefixes == ("dir/",)
    assert result.next_key_marker == "a b"
    assert result.encoding_type == "url"


def test_uploads_not_encoded_are_kept() -> None:
    out = {"Uploads": [{"Key": "100%+sure", "UploadId": "u", "Initiated": WHEN}]}
    result = listings.list_uploads(ops.ListMultipartUploads("b"), out)
    assert result.uploads[0].key == "100%+sure"
    assert result.encoding_type is None


def test_objects_v2_echo_the_request_and_keep_entry_details() -> None:
    out = {
        "Contents": [
            {
                "Key": "k",
                "LastModified": WHEN,
                "ETag": '"e"',
                "Size": 3,
                "StorageClass": "GLACIER",
                "ChecksumAlgorithm": ["CRC32"],
                "ChecksumType": "FULL_OBJECT",
                "Owner": {"ID": "o"},
            }
        ],
        "CommonPrefixes": [{"Prefix": "p/"}],
        "IsTruncated": True,
        "NextContinuationToken": "next",
        "Prefix": "should not be read back",
    }
    op = ops.ListObjects("b", version=2, prefix="", continuation_token="t", start_after="s")
    result = listings.list_objects(op, out)
    entry = result.contents[0]
    assert (entry.key, entry.storage_class, entry.checksum_algorithms) == (
        "k",
        "GLACIER",
        ("CRC32",),
    )
    assert entry.owner == Owner("o")
    assert entry.checksum_type == "FULL_OBJECT"
    assert result.prefix == ""
    assert result.common_prefixes == ("p/",)
    assert (result.continuation_token, result.next_continuation_token) == ("t", "next")
    assert result.start_after == "s"
    assert result.marker is None


def test_buckets() -> None:
    out = {
        "Buckets": [{"Name": "a", "CreationDate": WHEN, "BucketRegion": "eu-west-1"}],
        "Owner": {"ID": "o", "DisplayName": "d"},
        "ContinuationToken": "c",
    }
    result = listings.list_buckets(ops.ListBuckets(prefix="a"), out)
    assert result.buckets[0].name == "a"
    assert result.buckets[0].region == "eu-west-1"
    assert result.owner == Owner("o", "d")
    assert result.continuation_token == "c"
    assert result.prefix == "a"
