"""request.build: every builder, the arguments S3 refuses (with its codes and messages) and
what is kept of the headers and the query for the remote."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from s3d.protocol import operations as ops
from s3d.protocol.conditions import NO_CONDITIONS, Conditions
from s3d.protocol.errors import S3Error
from s3d.protocol.model import Headers
from s3d.protocol.ranges import ByteRange
from s3d.protocol.request import build, operation_headers
from s3d.protocol.routing import Target, parse_query, route
from s3d.protocol.s3_api import SELECTORS

BUCKET = Target("bucket", None)
OBJECT = Target("bucket", "dir/key")
SERVICE = Target(None, None)


def make(
    action: str,
    target: Target = OBJECT,
    query: str = "",
    headers: Headers = (),
    document: bytes | None = None,
    method: str = "GET",
) -> Any:
    return build(action, target, parse_query(query), headers, document, method)


def failure(call: Callable[[], Any]) -> S3Error:
    with pytest.raises(S3Error) as caught:
        call()
    return caught.value


def refused(call: Callable[[], Any]) -> tuple[str, int, str, dict[str, str]]:
    error = failure(call)
    return error.error_code, error.http_status, error.message, error.details


# ---------------------------------------------------------------------------------------------
# Service and bucket builders.


def test_list_buckets() -> None:
    assert make("ListBuckets", SERVICE) == ops.ListBuckets()
    op = make(
        "ListBuckets",
        SERVICE,
        "prefix=b&max-buckets=20&continuation-token=t&bucket-region=eu-west-1",
    )
    assert op == ops.ListBuckets("b", 20, "t", "eu-west-1")
    assert make("ListBuckets", SERVICE, "max-buckets=20000").max_buckets == 10000
    assert refused(lambda: make("ListBuckets", SERVICE, "max-buckets=0"))[:2] == (
        "InvalidArgument",
        400,
    )


def test_create_bucket() -> None:
    assert make("CreateBucket", BUCKET, method="PUT") == ops.CreateBucket("bucket")
    document = (
        b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"
    )
    op = make("CreateBucket", BUCKET, headers=(("x-amz-acl", "private"),), document=document)
    assert op == ops.CreateBucket("bucket", "eu-west-1", (("x-amz-acl", "private"),))


@pytest.mark.parametrize("name", ["Legacy_Bucket", "two..dots", "xn--punycode", "bucket--x-s3"])
def test_create_bucket_uses_the_creation_rules(name: str) -> None:
    # The name reached routing under the legacy rule; creating it takes the strict one.
    code, status, _, details = refused(lambda: make("CreateBucket", Target(name, None)))
    assert (code, status, details) == ("InvalidBucketName", 400, {"BucketName": name})


def test_create_bucket_malformed_document() -> None:
    assert refused(lambda: make("CreateBucket", BUCKET, document=b"<nope"))[0] == "MalformedXML"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("HeadBucket", ops.HeadBucket("bucket")),
        ("DeleteBucket", ops.DeleteBucket("bucket")),
        ("GetBucketLocation", ops.GetBucketLocation("bucket")),
    ],
)
def test_simple_bucket_builders(action: str, expected: ops.Operation) -> None:
    assert make(action, BUCKET) == expected


# ---------------------------------------------------------------------------------------------
# Listings.


def test_list_objects_defaults() -> None:
    assert make("ListObjects", BUCKET) == ops.ListObjects("bucket", version=1)
    assert make("ListObjectsV2", BUCKET, "list-type=2") == ops.ListObjects("bucket", version=2)


def test_list_objects_v1_arguments() -> None:
    op = make(
        "ListObjects",
        BUCKET,
        "prefix=a+b%2F&delimiter=%2F&max-keys=10&marker=a%2Fm&encoding-type=url",
    )
    assert op == ops.ListObjects(
        "bucket",
        version=1,
        prefix="a b/",
        delimiter="/",
        max_keys=10,
        encoding_type="url",
        marker="a/m",
    )


def test_list_objects_v2_arguments() -> None:
    op = make(
        "ListObjectsV2",
        BUCKET,
        "list-type=2&continuation-token=tok%3D&start-after=s&fetch-owner=TRUE&delimiter=",
    )
    assert op == ops.ListObjects(
        "bucket", version=2, continuation_token="tok=", start_after="s", fetch_owner=True
    )


def test_first_value_of_a_repeated_parameter_wins() -> None:
    assert make("ListObjects", BUCKET, "prefix=a&prefix=b").prefix == "a"


@pytest.mark.parametrize(
    ("query", "max_keys"),
    [
        ("max-keys=0", 0),
        ("max-keys=1000", 1000),
        ("max-keys=1001", 1000),
        ("max-keys=2147483647", 1000),
        ("max-keys=05", 5),
        ("max-keys=-0", 0),
        ("max-keys=", 1000),
        ("max-keys=" + "0" * 5000 + "7", 7),
    ],
)
def test_max_keys_accepted_and_capped(query: str, max_keys: int) -> None:
    for action in ("ListObjects", "ListObjectsV2"):
        assert make(action, BUCKET, query).max_keys == max_keys


@pytest.mark.parametrize(
    "value", ["abc", " 5", "+5", "5_0", "1.5", "٣", "2147483648", "-2147483649", "9" * 5000]
)
def test_max_keys_not_an_int32(value: str) -> None:
    error = failure(lambda: build("ListObjectsV2", BUCKET, (("max-keys", value),), ()))
    assert (error.error_code, error.http_status) == ("InvalidArgument", 400)
    assert error.message == "Provided max-keys not an integer or within integer range"
    assert error.details == {"ArgumentName": "max-keys", "ArgumentValue": value}


@pytest.mark.parametrize(
    ("value", "parsed"), [("-1", "-1"), ("-01", "-1"), ("-2147483648", "-2147483648")]
)
def test_max_keys_negative(value: str, parsed: str) -> None:
    # S3 spells the argument maxKeys here, and reports the value as parsed.
    assert refused(lambda: make("ListObjects", BUCKET, f"max-keys={value}")) == (
        "InvalidArgument",
        400,
        "Argument maxKeys must be an integer between 0 and 2147483647",
        {"ArgumentName": "maxKeys", "ArgumentValue": parsed},
    )  # fmt: skip


@pytest.mark.parametrize("value", ["URL", "url", "Url"])
def test_encoding_type_url_in_any_case(value: str) -> None:
    assert make("ListObjects", BUCKET, f"encoding-type={value}").encoding_type == "url"


@pytest.mark.parametrize("action", ["ListObjects", "ListObjectsV2", "ListMultipartUploads"])
@pytest.mark.parametrize("value", ["", "base64", "urls"])
def test_encoding_type_other_than_url(action: str, value: str) -> None:
    assert refused(lambda: make(action, BUCKET, f"encoding-type={value}")) == (
        "InvalidArgument",
        400,
        "Invalid Encoding Method specified in Request",
        {"ArgumentName": "encoding-type", "ArgumentValue": value},
    )


def test_empty_continuation_token() -> None:
    assert refused(lambda: make("ListObjectsV2", BUCKET, "list-type=2&continuation-token=")) == (
        "InvalidArgument",
        400,
        "The continuation token provided is incorrect",
        {"ArgumentName": "continuation-token"},
    )


V2_ONLY = "continuation-token only supported in REST.GET.BUCKET with list-type=2"


@pytest.mark.parametrize(
    ("action", "query", "message", "name"),
    [
        ("ListObjects", "continuation-token=t", V2_ONLY, "continuation-token"),
        ("ListObjects", "continuation-token=", V2_ONLY, "continuation-token"),
        (
            "ListObjects",
            "start-after=s",
            "startAfter only supported in REST.GET.BUCKET with list-type=2",
            "start-after",
        ),
        (
            "ListObjectsV2",
            "list-type=2&marker=m",
            "Marker unsupported with REST.GET.BUCKET in list-type=2",
            "marker",
        ),
    ],
)
def test_other_versions_parameters_are_refused(
    action: str, query: str, message: str, name: str
) -> None:
    assert refused(lambda: make(action, BUCKET, query)) == (
        "InvalidArgument",
        400,
        message,
        {"ArgumentName": name},
    )


def test_listing_refusal_order() -> None:
    # max-keys parses first, then the other version's parameters, then encoding-type, then the
    # max-keys range, as S3 judges them.
    first = failure(lambda: make("ListObjects", BUCKET, "start-after=x&max-keys=abc"))
    assert first.details["ArgumentName"] == "max-keys"
    second = failure(lambda: make("ListObjects", BUCKET, "encoding-type=x&start-after=x"))
    assert second.details["ArgumentName"] == "start-after"
    third = failure(lambda: make("ListObjects", BUCKET, "max-keys=-1&encoding-type=x"))
    assert third.details["ArgumentName"] == "encoding-type"


def test_list_multipart_uploads() -> None:
    op = make(
        "ListMultipartUploads",
        BUCKET,
        "uploads&prefix=p&delimiter=%2F&key-marker=k&upload-id-marker=u&max-uploads=3001",
    )
    assert op == ops.ListMultipartUploads(
        "bucket", "p", "/", "k", "u", max_uploads=1000, encoding_type=None
    )
    assert make("ListMultipartUploads", BUCKET, "uploads&key-marker=") == ops.ListMultipartUploads(
        "bucket"
    )
    assert refused(lambda: make("ListMultipartUploads", BUCKET, "max-uploads=-1")) == (
        "InvalidArgument",
        400,
        "Argument max-uploads must be an integer between 0 and 2147483647",
        {"ArgumentName": "max-uploads", "ArgumentValue": "-1"},
    )
    assert refused(lambda: make("ListMultipartUploads", BUCKET, "max-uploads=x"))[2] == (
        "Provided max-uploads not an integer or within integer range"
    )


def test_list_parts() -> None:
    op = make("ListParts", OBJECT, "uploadId=u1&max-parts=5000&part-number-marker=7")
    assert op == ops.ListParts("bucket", "dir/key", "u1", 1000, 7)
    assert make("ListParts", OBJECT, "uploadId=u1") == ops.ListParts("bucket", "dir/key", "u1")
    assert refused(lambda: make("ListParts", OBJECT, "uploadId=u&max-parts=-1"))[0] == (
        "InvalidArgument"
    )
    assert refused(lambda: make("ListParts", OBJECT, "uploadId=u&part-number-marker=x"))[0] == (
        "InvalidArgument"
    )


# ---------------------------------------------------------------------------------------------
# Reads.


def test_get_and_head_object() -> None:
    headers = (
        ("range", "bytes=0-9"),
        ("if-match", '"abc"'),
        ("if-modified-since", "Tue, 02 Jan 2024 03:04:05 GMT"),
        ("x-amz-checksum-mode", "ENABLED"),
    )
    op = make("GetObject", OBJECT, "versionId=v%2B1", headers)
    assert op == ops.GetObject(
        "bucket",
        "dir/key",
        head=False,
        range=ByteRange(0, 9),
        conditions=Conditions(
            if_match=("abc",), if_modified_since=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        ),
        version_id="v+1",
        headers=headers,
    )
    assert make("HeadObject", OBJECT) == ops.GetObject("bucket", "dir/key", head=True)


def test_response_overrides() -> None:
    query = (
        "response-content-type=text%2Fplain&response-content-disposition=attachment%3B+f%3D1"
        "&response-cache-control=no-cache&response-expires=0&response-content-language=fr"
        "&response-content-encoding=gzip&unrelated=1"
    )
    assert dict(make("GetObject", OBJECT, query).overrides) == {
        "content-type": "text/plain",
        "content-disposition": "attachment; f=1",
        "cache-control": "no-cache",
        "expires": "0",
        "content-language": "fr",
        "content-encoding": "gzip",
    }


@pytest.mark.parametrize("value", ["1", "10000", "0001"])
def test_part_number_read(value: str) -> None:
    assert make("GetObject", OBJECT, f"partNumber={value}").part_number == int(value)


@pytest.mark.parametrize("action", ["GetObject", "UploadPart", "UploadPartCopy"])
@pytest.mark.parametrize("value", ["0", "10001", "-1", "", "x", "1.0", " 1", "+1", "²", "9" * 5000])
def test_part_number_bounds(action: str, value: str) -> None:
    sent = (("uploadId", "u"), ("partNumber", value))
    headers = (("x-amz-copy-source", "src/k"),)
    assert refused(lambda: build(action, OBJECT, sent, headers)) == (
        "InvalidArgument",
        400,
        "Part number must be an integer between 1 and 10000, inclusive",
        {"ArgumentName": "partNumber", "ArgumentValue": value},
    )


def test_part_number_with_range() -> None:
    assert refused(
        lambda: make("GetObject", OBJECT, "partNumber=1", (("range", "bytes=0-1"),))
    ) == (
        "InvalidRequest",
        400,
        "Cannot specify both Range header and partNumber query parameter",
        {},
    )


# ---------------------------------------------------------------------------------------------
# Writes.


def test_put_object() -> None:
    headers = (
        ("content-type", "text/plain"),
        ("if-none-match", "*"),
        ("x-amz-meta-colour", "blue"),
        ("x-amz-storage-class", "STANDARD_IA"),
        ("x-amz-tagging", "a=1&b=two+words"),
    )
    op = make("PutObject", OBJECT, headers=headers, method="PUT")
    assert op == ops.PutObject(
        "bucket", "dir/key", Conditions(if_none_match=("*",)), headers=headers
    )


@pytest.mark.parametrize("storage_class", ["STANDARD", "GLACIER_IR", "INTELLIGENT_TIERING"])
def test_storage_class_accepted(storage_class: str) -> None:
    headers = (("x-amz-storage-class", storage_class),)
    for action in ("PutObject", "CreateMultipartUpload"):
        assert make(action, OBJECT, headers=headers).headers == headers


NEW_OBJECT_ACTIONS = ["PutObject", "CopyObject", "CreateMultipartUpload"]


@pytest.mark.parametrize("action", NEW_OBJECT_ACTIONS)
@pytest.mark.parametrize("storage_class", ["standard", "COLD", ""])
def test_storage_class_refused(action: str, storage_class: str) -> None:
    headers = (("x-amz-copy-source", "src-bucket/k"), ("x-amz-storage-class", storage_class))
    assert refused(lambda: make(action, OBJECT, headers=headers)) == (
        "InvalidStorageClass",
        400,
        "The storage class you specified is not valid",
        {"StorageClassRequested": storage_class},
    )


@pytest.mark.parametrize("action", NEW_OBJECT_ACTIONS)
def test_metadata_of_2_kb_is_accepted_and_more_is_too_large(action: str) -> None:
    # Name (without x-amz-meta-) plus value, in UTF-8 bytes.
    at_limit = (("x-amz-copy-source", "src/k"), ("x-amz-meta-k", "v" * 2047))
    assert make(action, OBJECT, headers=at_limit).headers == at_limit
    over = (
        ("x-amz-copy-source", "src/k"),
        ("x-amz-meta-k", "v" * 1000),
        ("x-amz-meta-é", "é" * 523),
    )
    assert refused(lambda: make(action, OBJECT, headers=over)) == (
        "MetadataTooLarge",
        400,
        "Your metadata headers exceed the maximum allowed metadata size.",
        {"Size": "2049", "MaxSizeAllowed": "2048"},
    )


def test_metadata_bytes_that_are_not_utf8_are_counted_not_crashed_on() -> None:
    # aiohttp hands such bytes over as surrogate escapes.
    headers = (("x-amz-meta-raw", "\udcff" * 2047),)
    assert refused(lambda: make("PutObject", OBJECT, headers=headers))[3]["Size"] == "2050"


@pytest.mark.parametrize(
    ("tagging", "code"),
    [
        ("a=1&a=2", "InvalidArgument"),
        ("=v", "InvalidArgument"),
        ("k=%FF", "InvalidArgument"),
        ("&".join(f"k{i}=v" for i in range(11)), "BadRequest"),
        ("aws%3Akey=v", "InvalidTag"),
        ("k=" + "v" * 257, "InvalidTag"),
    ],
)
@pytest.mark.parametrize("action", NEW_OBJECT_ACTIONS)
def test_tagging_header_is_validated(action: str, tagging: str, code: str) -> None:
    headers = (("x-amz-copy-source", "src/k"), ("x-amz-tagging", tagging))
    assert refused(lambda: make(action, OBJECT, headers=headers))[:2] == (code, 400)


def test_create_multipart_and_abort() -> None:
    headers = (("content-type", "video/mp4"),)
    assert make("CreateMultipartUpload", OBJECT, "uploads", headers) == ops.CreateMultipartUpload(
        "bucket", "dir/key", headers
    )
    assert make("AbortMultipartUpload", OBJECT, "uploadId=a%2Bb") == ops.AbortMultipartUpload(
        "bucket", "dir/key", "a+b"
    )


@pytest.mark.parametrize("action", ["UploadPart", "AbortMultipartUpload", "ListParts"])
def test_empty_upload_id(action: str) -> None:
    assert refused(lambda: make(action, OBJECT, "uploadId=&partNumber=1")) == (
        "InvalidArgument",
        400,
        "This operation does not accept an empty upload id",
        {"ArgumentName": "uploadId", "ArgumentValue": ""},
    )


def test_upload_part() -> None:
    op = make("UploadPart", OBJECT, "partNumber=3&uploadId=u", (("content-md5", "x"),))
    assert op == ops.UploadPart("bucket", "dir/key", "u", 3, (("content-md5", "x"),))


COMPLETE = (
    b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"e1"</ETag></Part>'
    b"<Part><PartNumber>2</PartNumber><ETag>e2</ETag></Part></CompleteMultipartUpload>"
)


def test_complete_multipart() -> None:
    op = make("CompleteMultipartUpload", OBJECT, "uploadId=u", document=COMPLETE, method="POST")
    assert isinstance(op, ops.CompleteMultipartUpload)
    assert (op.upload_id, [(p.part_number, p.etag) for p in op.parts]) == (
        "u",
        [(1, '"e1"'), (2, "e2")],
    )
    assert refused(lambda: make("CompleteMultipartUpload", OBJECT, "uploadId=u"))[0] == (
        "MalformedXML"
    )


def test_delete_objects() -> None:
    document = (
        b"<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object>"
        b"<Object><Key>b</Key><VersionId>v</VersionId></Object></Delete>"
    )
    op = make("DeleteObjects", BUCKET, "delete", document=document, method="POST")
    assert op == ops.DeleteObjects(
        "bucket", (ops.ObjectIdentifier("a"), ops.ObjectIdentifier("b", "v")), quiet=True
    )
    assert refused(lambda: make("DeleteObjects", BUCKET, "delete", document=b""))[0] == (
        "MalformedXML"
    )


def test_delete_object() -> None:
    assert make("DeleteObject", OBJECT, "versionId=v1") == ops.DeleteObject(
        "bucket", "dir/key", "v1"
    )


def test_object_tagging() -> None:
    document = b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"
    assert make("PutObjectTagging", OBJECT, "tagging&versionId=v", document=document) == (
        ops.PutObjectTagging("bucket", "dir/key", (("k", "v"),), "v")
    )
    assert make("GetObjectTagging", OBJECT, "tagging") == ops.GetObjectTagging("bucket", "dir/key")
    assert make("DeleteObjectTagging", OBJECT, "tagging&versionId=x") == (
        ops.DeleteObjectTagging("bucket", "dir/key", "x")
    )
    aws = b"<Tagging><TagSet><Tag><Key>aws:x</Key><Value>v</Value></Tag></TagSet></Tagging>"
    assert refused(lambda: make("PutObjectTagging", OBJECT, "tagging", document=aws))[0] == (
        "InvalidTag"
    )


# ---------------------------------------------------------------------------------------------
# Copy sources.


@pytest.mark.parametrize(
    ("header", "bucket", "key", "version"),
    [
        ("src-bucket/key", "src-bucket", "key", None),
        ("/src-bucket/key", "src-bucket", "key", None),
        ("src-bucket/a/b/c", "src-bucket", "a/b/c", None),
        ("src-bucket/a%20b%2Bc%2Fd", "src-bucket", "a b+c/d", None),
        ("src-bucket/a+b", "src-bucket", "a+b", None),
        ("src-bucket/caf%C3%A9", "src-bucket", "café", None),
        ("src-bucket/q%3Fmark", "src-bucket", "q?mark", None),
        ("%2Fsrc-bucket%2Fkey", "src-bucket", "key", None),
        ("src-bucket/key?versionId=3%2B4", "src-bucket", "key", "3+4"),
        ("/src-bucket/..%2F..%2Fk?versionId=v", "src-bucket", "../../k", "v"),
        ("Legacy_Bucket/k", "Legacy_Bucket", "k", None),
    ],
)
def test_copy_source_forms(header: str, bucket: str, key: str, version: str | None) -> None:
    op = make("CopyObject", OBJECT, headers=(("x-amz-copy-source", header),), method="PUT")
    assert op.source == ops.CopySource(bucket, key, version, NO_CONDITIONS)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "Invalid copy source bucket name"),
        ("/", "Invalid copy source bucket name"),
        ("/key-only", "Invalid copy source object key"),
        ("bucket", "Invalid copy source object key"),
        ("bucket/", "Invalid copy source object key"),
        ("bucket/key?versionId=", "Invalid copy source version id"),
        ("bucket/key?version=1", "Invalid copy source version id"),
        ("bucket/%FF", "Invalid copy source encoding."),
        ("bucket/%zz", "Invalid copy source encoding."),
        ("bucket/100%", "Invalid copy source encoding."),
    ],
)
@pytest.mark.parametrize("action", ["CopyObject", "UploadPartCopy"])
def test_copy_source_refused(action: str, header: str, message: str) -> None:
    sent = (("x-amz-copy-source", header),)
    assert refused(lambda: make(action, OBJECT, "partNumber=1&uploadId=u", sent)) == (
        "InvalidArgument",
        400,
        message,
        {"ArgumentName": "x-amz-copy-source", "ArgumentValue": header},
    )


def test_copy_source_bucket_and_key_rules() -> None:
    bad_bucket = (("x-amz-copy-source", "ab/key"),)
    assert refused(lambda: make("CopyObject", OBJECT, headers=bad_bucket))[0] == (
        "InvalidBucketName"
    )
    long_key = (("x-amz-copy-source", "bucket/" + "k" * 1025),)
    assert refused(lambda: make("CopyObject", OBJECT, headers=long_key))[0] == "KeyTooLongError"


def test_copy_source_conditions() -> None:
    headers = (
        ("x-amz-copy-source", "src-bucket/k"),
        ("x-amz-copy-source-if-match", '"e1", "e2"'),
        ("x-amz-copy-source-if-none-match", '"e3"'),
        ("x-amz-copy-source-if-modified-since", "Tue, 02 Jan 2024 03:04:05 GMT"),
        ("x-amz-copy-source-if-unmodified-since", "not a date"),
        ("if-match", '"destination"'),
    )
    op = make("CopyObject", OBJECT, headers=headers)
    assert op.source.conditions == Conditions(
        if_match=("e1", "e2"),
        if_none_match=("e3",),
        if_modified_since=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_upload_part_copy() -> None:
    headers = (("x-amz-copy-source", "src/k"), ("x-amz-copy-source-range", "bytes=0-99"))
    op = make("UploadPartCopy", OBJECT, "partNumber=2&uploadId=u", headers, method="PUT")
    assert op == ops.UploadPartCopy(
        "bucket", "dir/key", "u", 2, ops.CopySource("src", "k"), headers
    )


@pytest.mark.parametrize("value", ["bytes=0-", "bytes=-5", "bytes=5-1", "0-1", "bytes=0-1,2-3"])
def test_upload_part_copy_range_is_strict(value: str) -> None:
    headers = (("x-amz-copy-source", "src/k"), ("x-amz-copy-source-range", value))
    code, status, message, details = refused(
        lambda: make("UploadPartCopy", OBJECT, "partNumber=2&uploadId=u", headers)
    )
    assert (code, status, details) == (
        "InvalidArgument",
        400,
        {"ArgumentName": "x-amz-copy-source-range", "ArgumentValue": value},
    )
    assert message.startswith("The x-amz-copy-source-range value must be of the form")


# ---------------------------------------------------------------------------------------------
# Headers kept for the remote.


def test_transport_and_authentication_headers_are_dropped() -> None:
    headers = (
        ("host", "127.0.0.1:9000"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=..."),
        ("x-amz-date", "20240101T000000Z"),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ("x-amz-security-token", "token"),
        ("x-amz-decoded-content-length", "5"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("content-length", "5"),
        ("transfer-encoding", "chunked"),
        ("expect", "100-continue"),
        ("connection", "keep-alive"),
        ("user-agent", "Boto3/1.0"),
        ("amz-sdk-invocation-id", "x"),
        ("amz-sdk-request", "attempt=1"),
        ("accept-encoding", "identity"),
        ("content-type", "text/plain"),
        ("x-amz-meta-a", "1"),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
        ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
    )
    assert operation_headers(headers) == (
        ("content-type", "text/plain"),
        ("x-amz-meta-a", "1"),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
        ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
    )
    assert make("PutObject", OBJECT, headers=headers).headers == operation_headers(headers)


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("aws-chunked", None),
        ("AWS-Chunked", None),
        ("aws-chunked,gzip", "gzip"),
        ("gzip, aws-chunked", "gzip"),
        ("aws-chunked, gzip, br", "gzip,br"),
        ("gzip", "gzip"),
    ],
)
def test_aws_chunked_is_removed_from_content_encoding(value: str, kept: str | None) -> None:
    headers = operation_headers((("content-encoding", value), ("x-amz-meta-x", "y")))
    assert dict(headers).get("content-encoding") == kept
    assert dict(headers)["x-amz-meta-x"] == "y"


# ---------------------------------------------------------------------------------------------
# Forwarded operations.


def test_forwarded_keeps_query_minus_authentication() -> None:
    query = parse_query(
        "acl&versionId=v1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=s&x-id=PutObjectAcl"
        "&AWSAccessKeyId=AK&Signature=s&Expires=1&x-amz-security-token=t&v=2"
    )
    headers = (("authorization", "x"), ("x-amz-acl", "private"))
    op = build("PutObjectAcl", OBJECT, query, headers, b"<AccessControlPolicy/>", "PUT")
    assert op == ops.Forwarded(
        "PutObjectAcl",
        "PUT",
        "bucket",
        "dir/key",
        (("acl", ""), ("versionId", "v1"), ("v", "2")),
        (("x-amz-acl", "private"),),
    )


def _forwarded_cases() -> list[tuple[str, str, str]]:
    cases = []
    for (level, word), methods in sorted(SELECTORS.items()):
        for method in sorted(methods):
            cases.append((level, word, method))
    return cases


DOCUMENTS = {
    "DeleteObjects": b"<Delete><Object><Key>k</Key></Object></Delete>",
    "PutObjectTagging": b"<Tagging><TagSet/></Tagging>",
}


@pytest.mark.parametrize(("level", "word", "method"), _forwarded_cases())
def test_every_selector_builds_its_operation(level: str, word: str, method: str) -> None:
    target = BUCKET if level == "bucket" else OBJECT
    query = parse_query(word if word != "select" else "select&select-type=2")
    action = route(method, target, query, ())
    op = build(action, target, query, (), DOCUMENTS.get(action, b"<Doc/>"), method)
    if isinstance(op, ops.Forwarded):
        assert (op.action, op.method, op.bucket, op.key) == (
            action,
            method,
            target.bucket,
            target.key,
        )
        assert op.query == query
    else:
        # The few s3d serves itself: multipart uploads, object tagging, deletes, location.
        assert op.name == action
        assert action in SERVED_WITH_A_SELECTOR


SERVED_WITH_A_SELECTOR = {
    "CreateMultipartUpload",
    "DeleteObjects",
    "DeleteObjectTagging",
    "GetBucketLocation",
    "GetObjectTagging",
    "ListMultipartUploads",
    "PutObjectTagging",
}
