"""Headers to botocore parameters, through botocore's real S3 service model."""

from __future__ import annotations

from datetime import UTC, datetime

import botocore.session
import pytest

from s3d.protocol.errors import InvalidArgument
from s3d.remote.params import HeaderParams


@pytest.fixture(scope="module")
def params() -> HeaderParams:
    return HeaderParams(botocore.session.get_session().get_service_model("s3"))


def test_documented_headers_become_members(params: HeaderParams) -> None:
    got = params.params(
        "PutObject",
        (
            ("content-type", "text/plain"),
            ("cache-control", "no-cache"),
            ("x-amz-meta-colour", "blue"),
            ("x-amz-meta-size", "L"),
            ("x-amz-tagging", "a=b"),
            ("x-amz-storage-class", "GLACIER"),
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-bucket-key-enabled", "TRUE"),
            ("x-amz-server-side-encryption-customer-key-md5", "bWQ1"),
            ("x-amz-object-lock-retain-until-date", "2030-01-02T03:04:05Z"),
            ("expires", "Wed, 21 Oct 2037 07:28:00 GMT"),
            ("if-none-match", "*"),
            ("x-amz-request-payer", "requester"),
            ("x-unknown-header", "dropped"),
        ),
    )
    assert got == {
        "ContentType": "text/plain",
        "CacheControl": "no-cache",
        "Metadata": {"colour": "blue", "size": "L"},
        "Tagging": "a=b",
        "StorageClass": "GLACIER",
        "ServerSideEncryption": "aws:kms",
        "BucketKeyEnabled": True,
        "SSECustomerKeyMD5": "bWQ1",
        "ObjectLockRetainUntilDate": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        "Expires": datetime(2037, 10, 21, 7, 28, tzinfo=UTC),
        "IfNoneMatch": "*",
        "RequestPayer": "requester",
    }


def test_headers_s3d_supplies_are_not_taken_from_the_client(params: HeaderParams) -> None:
    client_headers = (
        ("content-length", "5"),
        ("content-md5", "AAAA"),
        ("x-amz-checksum-crc32", "AAAAAA=="),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ("authorization", "AWS4-HMAC-SHA256 ..."),
    )
    assert params.params("PutObject", client_headers) == {}
    assert params.params("UploadPart", client_headers) == {}
    supplied = params.supplied("PutObject", client_headers[:3])
    assert supplied == {"ContentLength": 5, "ContentMD5": "AAAA", "ChecksumCRC32": "AAAAAA=="}


def test_complete_keeps_the_clients_full_object_checksum(params: HeaderParams) -> None:
    got = params.params(
        "CompleteMultipartUpload",
        (("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-checksum-type", "FULL_OBJECT")),
    )
    assert got == {"ChecksumCRC32": "AAAAAA==", "ChecksumType": "FULL_OBJECT"}


def test_typed_fields_win_over_their_headers(params: HeaderParams) -> None:
    assert params.params("GetObject", (("range", "bytes=0-1"),)) == {}
    copy = params.params(
        "UploadPartCopy",
        (("x-amz-copy-source", "/b/k"), ("x-amz-copy-source-range", "bytes=0-9")),
    )
    assert copy == {"CopySourceRange": "bytes=0-9"}


def test_conditions_and_copy_conditions(params: HeaderParams) -> None:
    got = params.params(
        "CopyObject",
        (
            ("x-amz-copy-source-if-match", '"abc"'),
            ("x-amz-copy-source-if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT"),
            ("x-amz-metadata-directive", "REPLACE"),
            ("x-amz-tagging-directive", "COPY"),
        ),
    )
    assert got == {
        "CopySourceIfMatch": '"abc"',
        "CopySourceIfModifiedSince": datetime(2000, 1, 1, tzinfo=UTC),
        "MetadataDirective": "REPLACE",
        "TaggingDirective": "COPY",
    }


def test_repeated_headers_are_joined(params: HeaderParams) -> None:
    got = params.params("PutObject", (("x-amz-meta-a", "1"), ("x-amz-meta-a", "2")))
    assert got == {"Metadata": {"a": "1,2"}}


def test_integer_and_list_members(params: HeaderParams) -> None:
    got = params.params(
        "ListObjectsV2", (("x-amz-optional-object-attributes", "RestoreStatus, Other"),)
    )
    assert got == {"OptionalObjectAttributes": ["RestoreStatus", "Other"]}
    hold = params.params("PutObject", (("x-amz-object-lock-event-hold-duration-days", "7"),))
    assert hold == {"ObjectLockEventHoldDurationDays": 7}


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-amz-object-lock-event-hold-duration-days", "seven"),
        ("x-amz-server-side-encryption-bucket-key-enabled", "yes"),
        ("x-amz-object-lock-retain-until-date", "soon"),
    ],
)
def test_values_of_the_wrong_type_are_invalid_argument(
    params: HeaderParams, header: str, value: str
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        params.params("PutObject", ((header, value),))
    assert raised.value.details == {"ArgumentName": header}


def test_unparsable_condition_dates_are_left_out(params: HeaderParams) -> None:
    assert params.params("GetObject", (("if-modified-since", "yesterday"),)) == {}


def test_response_overrides(params: HeaderParams) -> None:
    got = params.overrides(
        "GetObject",
        (
            ("content-type", "text/x"),
            ("content-disposition", "inline"),
            ("expires", "Wed, 21 Oct 2037 07:28:00 GMT"),
            ("x-not-an-override", "v"),
        ),
    )
    assert got == {
        "ResponseContentType": "text/x",
        "ResponseContentDisposition": "inline",
        "ResponseExpires": datetime(2037, 10, 21, 7, 28, tzinfo=UTC),
    }
