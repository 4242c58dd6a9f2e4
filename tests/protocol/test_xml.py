"""S3 XML documents: what we render, a real client (botocore's own parser) reads back; what a
real client (botocore's own serializer) sends, we parse; broken bodies get S3's error codes."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote_plus

import botocore.handlers
import botocore.session
import pytest
from botocore.parsers import RestXMLParser
from botocore.serialize import RestXMLSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from s3d.protocol import xml_parse, xml_render
from s3d.protocol.errors import S3Error
from s3d.protocol.model import (
    BucketEntry,
    CompleteMultipartResult,
    CopyResult,
    CreateMultipartResult,
    DeletedEntry,
    DeleteErrorEntry,
    DeleteObjectsResult,
    ListBucketsResult,
    ListMultipartUploadsResult,
    ListObjectsResult,
    ListPartsResult,
    LocationResult,
    ObjectEntry,
    Owner,
    PartEntry,
    TaggingResult,
    UploadEntry,
)
from s3d.protocol.operations import CompletedPart, ObjectIdentifier

S3 = botocore.session.get_session().get_service_model("s3")
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
WHEN = datetime(2009, 10, 12, 17, 50, 30, 123456, tzinfo=UTC)
ETAG = '"fba9dede5f27731c9771645a39863328"'
OWNER = Owner("75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", "webfile")

# Text that XML 1.0 can carry and that survives parsing unchanged ('\r' is written as a
# reference by us, but botocore's serializer writes it raw and parsers fold it into '\n').
XML_TEXT = st.text(
    st.characters(
        codec="utf-8",
        exclude_characters="\r\ufffe\uffff",
        min_codepoint=0x09,
    ).filter(lambda c: c in "\t\n" or c >= " "),
    max_size=40,
)
# Any key a client may store, control characters included: only "url" can list these.
ANY_KEY = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


def client_reads(operation: str, body: bytes, status: int = 200) -> dict[str, Any]:
    """What botocore makes of ``body`` as the answer to ``operation``."""
    shape = S3.operation_model(operation).output_shape
    response = {"body": body, "headers": {}, "status_code": status}
    parsed: dict[str, Any] = RestXMLParser().parse(response, shape)
    return parsed


def client_sends(operation: str, params: dict[str, Any]) -> bytes:
    """The body botocore sends for ``operation`` with ``params``."""
    request = RestXMLSerializer().serialize_to_request(params, S3.operation_model(operation))
    body: bytes = request["body"]
    return body


def child_names(body: bytes) -> list[str]:
    return [child.tag.removeprefix(NS) for child in ET.fromstring(body)]


def error_code(excinfo: pytest.ExceptionInfo[S3Error]) -> str:
    return excinfo.value.error_code


# Rendering.


def test_error_document_order_and_botocore_reading() -> None:
    body = xml_render.render_error(
        "NoSuchKey",
        "The specified key does not exist.",
        "4442587FB7D0A2F9",
        host_id="host/id=",
        resource="/bucket/a&b",
        details={"Key": "a&b<c>", "BucketName": "bucket"},
    )
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>')
    assert child_names(body) == [
        "Code",
        "Message",
        "Key",
        "BucketName",
        "Resource",
        "RequestId",
        "HostId",
    ]
    error = client_reads("GetObject", body, status=404)["Error"]
    assert error["Code"] == "NoSuchKey"
    assert error["Message"] == "The specified key does not exist."
    assert error["Key"] == "a&b<c>"
    assert error["Resource"] == "/bucket/a&b"


def test_error_document_without_resource_has_empty_host_id() -> None:
    body = xml_render.render_error("SlowDown", "Please reduce your request rate.", "R1")
    assert child_names(body) == ["Code", "Message", "RequestId", "HostId"]
    assert b"<HostId></HostId>" in body
    assert b"xmlns" not in body


def test_timestamps_are_utc_with_milliseconds() -> None:
    assert xml_render.timestamp(WHEN) == "2009-10-12T17:50:30.123Z"
    assert xml_render.timestamp(datetime(2009, 10, 12, 17, 50, 30)) == "2009-10-12T17:50:30.000Z"
    paris = datetime(2009, 10, 12, 19, 50, 30, tzinfo=timezone(timedelta(hours=2)))
    assert xml_render.timestamp(paris) == "2009-10-12T17:50:30.000Z"


def test_list_buckets() -> None:
    result = ListBucketsResult(
        owner=OWNER,
        buckets=(
            BucketEntry("alpha", WHEN, "eu-west-1"),
            BucketEntry("beta", WHEN),
        ),
        prefix="a",
        continuation_token="next-page",
    )
    body = xml_render.render_list_buckets(result)
    assert ET.fromstring(body).tag == f"{NS}ListAllMyBucketsResult"
    parsed = client_reads("ListBuckets", body)
    assert [b["Name"] for b in parsed["Buckets"]] == ["alpha", "beta"]
    assert parsed["Buckets"][0]["CreationDate"] == WHEN.replace(microsecond=123000)
    assert parsed["Buckets"][0]["BucketRegion"] == "eu-west-1"
    assert "BucketRegion" not in parsed["Buckets"][1]
    assert parsed["Owner"] == {"ID": OWNER.id, "DisplayName": "webfile"}
    assert parsed["ContinuationToken"] == "next-page"
    assert parsed["Prefix"] == "a"


def test_list_buckets_empty() -> None:
    body = xml_render.render_list_buckets(ListBucketsResult(owner=None, buckets=()))
    assert child_names(body) == ["Buckets"]
    assert client_reads("ListBuckets", body)["Buckets"] == []


def _entry(key: str, **fields: Any) -> ObjectEntry:
    return ObjectEntry(key=key, last_modified=WHEN, etag=ETAG, size=len(key), **fields)


def _listing(
    version: int, keys: list[str], prefixes: tuple[str, ...] = (), **fields: Any
) -> ListObjectsResult:
    values: dict[str, Any] = {
        "version": version,
        "bucket": "bucket",
        "prefix": "",
        "delimiter": None,
        "max_keys": 1000,
        "encoding_type": None,
        "is_truncated": False,
        "contents": tuple(_entry(key) for key in keys),
        "common_prefixes": prefixes,
    }
    values.update(fields)
    return ListObjectsResult(**values)


def test_list_objects_v2_element_order_and_values() -> None:
    result = _listing(
        2,
        ["photos/a.jpg"],
        ("photos/2006/",),
        prefix="photos/",
        delimiter="/",
        continuation_token="tok1",
        next_continuation_token="tok2",
        start_after="photos/0",
        is_truncated=True,
        max_keys=2,
    )
    body = xml_render.render_list_objects(result)
    assert child_names(body) == [
        "Name",
        "Prefix",
        "StartAfter",
        "ContinuationToken",
        "NextContinuationToken",
        "KeyCount",
        "MaxKeys",
        "Delimiter",
        "IsTruncated",
        "Contents",
        "CommonPrefixes",
    ]
    parsed = client_reads("ListObjectsV2", body)
    assert parsed["KeyCount"] == 2
    assert parsed["IsTruncated"] is True
    assert parsed["NextContinuationToken"] == "tok2"
    assert parsed["CommonPrefixes"] == [{"Prefix": "photos/2006/"}]
    content = parsed["Contents"][0]
    assert content["Key"] == "photos/a.jpg"
    assert content["ETag"] == ETAG
    assert content["LastModified"] == WHEN.replace(microsecond=123000)
    assert content["StorageClass"] == "STANDARD"
    assert "Owner" not in content
    assert b"<LastModified>2009-10-12T17:50:30.123Z</LastModified>" in body
    assert b"<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>" in body


def test_list_objects_contents_order_with_owner_and_checksums() -> None:
    entry = _entry(
        "k", owner=OWNER, checksum_algorithms=("CRC32", "SHA256"), checksum_type="FULL_OBJECT"
    )
    body = xml_render.render_list_objects(replace(_listing(2, []), contents=(entry,)))
    contents = ET.fromstring(body).find(f"{NS}Contents")
    assert contents is not None
    assert [c.tag.removeprefix(NS) for c in contents] == [
        "Key",
        "LastModified",
        "ETag",
        "ChecksumAlgorithm",
        "ChecksumAlgorithm",
        "ChecksumType",
        "Size",
        "Owner",
        "StorageClass",
    ]
    parsed = client_reads("ListObjectsV2", body)["Contents"][0]
    assert parsed["ChecksumAlgorithm"] == ["CRC32", "SHA256"]
    assert parsed["ChecksumType"] == "FULL_OBJECT"
    assert parsed["Owner"] == {"ID": OWNER.id, "DisplayName": "webfile"}


def test_list_objects_v1_markers() -> None:
    truncated = _listing(
        1, ["a/1", "b"], ("c/",), delimiter="/", marker="a", next_marker="c/", is_truncated=True
    )
    body = xml_render.render_list_objects(truncated)
    assert child_names(body)[:6] == [
        "Name",
        "Prefix",
        "Marker",
        "NextMarker",
        "MaxKeys",
        "Delimiter",
    ]
    parsed = client_reads("ListObjects", body)
    assert parsed["Marker"] == "a"
    assert parsed["NextMarker"] == "c/"
    assert "KeyCount" not in parsed
    # Without a delimiter S3 sends no NextMarker (clients use the last key); Marker is always
    # there, empty when the request had none.
    plain = _listing(1, ["a"], next_marker="a", is_truncated=True)
    body = xml_render.render_list_objects(plain)
    assert "NextMarker" not in child_names(body)
    assert b"<Marker></Marker>" in body


def test_list_objects_escapes_xml_characters() -> None:
    key = "a&b<c>\"d'e\tf\ng\rh é/日本"
    body = xml_render.render_list_objects(_listing(2, [key]))
    assert client_reads("ListObjectsV2", body)["Contents"][0]["Key"] == key


def test_control_characters_without_url_encoding_are_references_as_s3_writes_them() -> None:
    body = xml_render.render_list_objects(_listing(2, ["a\x01b\x1fc"]))
    assert b"<Key>a&#x1;b&#x1F;c</Key>" in body


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(XML_TEXT.filter(bool), min_size=1, max_size=5, unique=True))
def test_plain_listing_round_trips_through_botocore(keys: list[str]) -> None:
    body = xml_render.render_list_objects(_listing(2, keys))
    assert [c["Key"] for c in client_reads("ListObjectsV2", body)["Contents"]] == keys


def _client_decodes(operation: str, body: bytes) -> dict[str, Any]:
    """botocore's parser, then the handler that undoes the encoding it asked for itself."""
    parsed = client_reads(operation, body)
    context = {"encoding_type_auto_set": True}
    if operation == "ListObjects":
        botocore.handlers.decode_list_object(parsed, context)
    else:
        botocore.handlers.decode_list_object_v2(parsed, context)
    return parsed


def test_url_encoding_matches_s3() -> None:
    assert xml_render.url_encode("run books/x+y%z") == "run+books/x%2By%25z"
    assert xml_render.url_encode("a*b~c\x01é") == "a*b%7Ec%01%C3%A9"


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(ANY_KEY, min_size=1, max_size=4, unique=True),
    prefix=ANY_KEY,
    delimiter=ANY_KEY,
    start_after=ANY_KEY,
)
def test_url_encoded_v2_listing_round_trips_through_botocore(
    keys: list[str], prefix: str, delimiter: str, start_after: str
) -> None:
    result = _listing(
        2,
        keys,
        (prefix + delimiter,),
        prefix=prefix,
        delimiter=delimiter,
        start_after=start_after,
        encoding_type="url",
    )
    body = xml_render.render_list_objects(result)
    parsed = _client_decodes("ListObjectsV2", body)
    assert parsed["EncodingType"] == "url"
    assert [c["Key"] for c in parsed["Contents"]] == keys
    assert parsed["Prefix"] == prefix
    assert parsed["Delimiter"] == delimiter
    assert parsed["StartAfter"] == start_after
    assert parsed["CommonPrefixes"] == [{"Prefix": prefix + delimiter}]


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(ANY_KEY, min_size=1, max_size=4, unique=True), marker=ANY_KEY)
def test_url_encoded_v1_listing_round_trips_through_botocore(keys: list[str], marker: str) -> None:
    result = _listing(
        1,
        keys,
        (marker + "/",),
        prefix=marker,
        delimiter="/",
        marker=marker,
        next_marker=keys[-1],
        is_truncated=True,
        encoding_type="url",
    )
    parsed = _client_decodes("ListObjects", xml_render.render_list_objects(result))
    assert [c["Key"] for c in parsed["Contents"]] == keys
    assert parsed["Marker"] == marker
    assert parsed["NextMarker"] == keys[-1]
    assert parsed["CommonPrefixes"] == [{"Prefix": marker + "/"}]
    # S3 encodes the V1 Prefix too, but botocore's V1 handler leaves it encoded (boto3#3534).
    assert unquote_plus(parsed["Prefix"]) == marker


def test_list_objects_1000_keys_renders_in_milliseconds() -> None:
    keys = [f"photos/2024/{i:05d} & more.jpg" for i in range(1000)]
    result = _listing(2, keys, encoding_type="url")
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        xml_render.render_list_objects(result)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05  # ~5 ms measured; generous for slow CI machines


def test_list_multipart_uploads() -> None:
    upload = UploadEntry(
        key="my movie.m2ts",
        upload_id="VXBsb2FkIElE",
        initiated=WHEN,
        owner=OWNER,
        initiator=Owner("arn:aws:iam::111122223333:user/u"),
        checksum_algorithm="CRC32",
    )
    result = ListMultipartUploadsResult(
        bucket="bucket",
        prefix="my ",
        delimiter="/",
        key_marker="a b",
        upload_id_marker="",
        next_key_marker="my movie.m2ts",
        next_upload_id_marker="VXBsb2FkIElE",
        max_uploads=1,
        encoding_type="url",
        is_truncated=True,
        uploads=(upload,),
        common_prefixes=("my dir/",),
    )
    body = xml_render.render_list_multipart_uploads(result)
    parsed = client_reads("ListMultipartUploads", body)
    # botocore does not decode this listing: the client asked for "url" itself.
    assert parsed["Uploads"][0]["Key"] == "my+movie.m2ts"
    assert parsed["Uploads"][0]["UploadId"] == "VXBsb2FkIElE"
    assert parsed["Uploads"][0]["Initiated"] == WHEN.replace(microsecond=123000)
    assert parsed["Uploads"][0]["Initiator"] == {"ID": "arn:aws:iam::111122223333:user/u"}
    assert parsed["Uploads"][0]["ChecksumAlgorithm"] == "CRC32"
    assert parsed["KeyMarker"] == "a+b"
    assert parsed["NextKeyMarker"] == "my+movie.m2ts"
    assert parsed["Prefix"] == "my+"
    assert parsed["CommonPrefixes"] == [{"Prefix": "my+dir/"}]
    assert parsed["MaxUploads"] == 1
    assert parsed["IsTruncated"] is True
    assert parsed["EncodingType"] == "url"


def test_list_parts() -> None:
    part = PartEntry(2, WHEN, ETAG, 10485760, (("CRC32", "AAAAAA=="), ("SHA256", "x=")))
    result = ListPartsResult(
        bucket="bucket",
        key="a&b",
        upload_id="up",
        part_number_marker=1,
        next_part_number_marker=2,
        max_parts=1,
        is_truncated=True,
        parts=(part,),
        owner=OWNER,
        initiator=OWNER,
        checksum_algorithm="CRC32",
        checksum_type="COMPOSITE",
    )
    parsed = client_reads("ListParts", xml_render.render_list_parts(result))
    assert parsed["Key"] == "a&b"
    assert parsed["PartNumberMarker"] == 1
    assert parsed["NextPartNumberMarker"] == 2
    assert parsed["Parts"] == [
        {
            "PartNumber": 2,
            "LastModified": WHEN.replace(microsecond=123000),
            "ETag": ETAG,
            "Size": 10485760,
            "ChecksumCRC32": "AAAAAA==",
            "ChecksumSHA256": "x=",
        }
    ]
    assert parsed["ChecksumAlgorithm"] == "CRC32"
    assert parsed["ChecksumType"] == "COMPOSITE"
    assert parsed["StorageClass"] == "STANDARD"


@pytest.mark.parametrize(("part", "operation"), [(False, "CopyObject"), (True, "UploadPartCopy")])
def test_copy_results(part: bool, operation: str) -> None:
    result = CopyResult(etag=ETAG, last_modified=WHEN, checksums=(("CRC32C", "c=="),), part=part)
    body = xml_render.render_copy(result)
    root = "CopyPartResult" if part else "CopyObjectResult"
    assert ET.fromstring(body).tag == f"{NS}{root}"
    parsed = client_reads(operation, body)[root]
    assert parsed["ETag"] == ETAG
    assert parsed["LastModified"] == WHEN.replace(microsecond=123000)
    assert parsed["ChecksumCRC32C"] == "c=="


def test_create_and_complete_multipart() -> None:
    body = xml_render.render_create_multipart(CreateMultipartResult("bucket", "k y", "up-1"))
    assert ET.fromstring(body).tag == f"{NS}InitiateMultipartUploadResult"
    parsed = client_reads("CreateMultipartUpload", body)
    assert (parsed["Bucket"], parsed["Key"], parsed["UploadId"]) == ("bucket", "k y", "up-1")
    complete = CompleteMultipartResult(
        location="http://127.0.0.1/bucket/k%20y",
        bucket="bucket",
        key="k y",
        etag='"3858f62230ac3c915f300c664312c11f-9"',
        checksums=(("CRC64NVME", "n=="),),
        checksum_type="FULL_OBJECT",
    )
    parsed = client_reads("CompleteMultipartUpload", xml_render.render_complete_multipart(complete))
    assert parsed["Location"] == "http://127.0.0.1/bucket/k%20y"
    assert parsed["ETag"] == '"3858f62230ac3c915f300c664312c11f-9"'
    assert parsed["ChecksumCRC64NVME"] == "n=="
    assert parsed["ChecksumType"] == "FULL_OBJECT"


def test_delete_objects_verbose_and_quiet() -> None:
    result = DeleteObjectsResult(
        deleted=(DeletedEntry("a"), DeletedEntry("b", "v1", True, "dm1")),
        errors=(DeleteErrorEntry("c", "AccessDenied", "Access Denied", "v2"),),
    )
    parsed = client_reads("DeleteObjects", xml_render.render_delete_objects(result))
    assert parsed["Deleted"] == [
        {"Key": "a"},
        {"Key": "b", "VersionId": "v1", "DeleteMarker": True, "DeleteMarkerVersionId": "dm1"},
    ]
    assert parsed["Errors"] == [
        {"Key": "c", "VersionId": "v2", "Code": "AccessDenied", "Message": "Access Denied"}
    ]
    quiet = DeleteObjectsResult(result.deleted, result.errors, quiet=True)
    parsed = client_reads("DeleteObjects", xml_render.render_delete_objects(quiet))
    assert "Deleted" not in parsed
    assert parsed["Errors"][0]["Key"] == "c"


def test_tagging() -> None:
    tags = (("project", "s3d & co"), ("empty", ""))
    parsed = client_reads("GetObjectTagging", xml_render.render_tagging(TaggingResult(tags)))
    assert parsed["TagSet"] == [
        {"Key": "project", "Value": "s3d & co"},
        {"Key": "empty", "Value": ""},
    ]
    parsed = client_reads("GetObjectTagging", xml_render.render_tagging(TaggingResult(())))
    assert parsed["TagSet"] == []


class _HTTPResponse:
    """What botocore's GetBucketLocation handler reads: the raw body."""

    raw = object()

    def __init__(self, content: bytes) -> None:
        self.content = content


@pytest.mark.parametrize(
    ("region", "expected"), [("eu-west-1", "eu-west-1"), (None, None), ("us-east-1", None)]
)
def test_location(region: str | None, expected: str | None) -> None:
    body = xml_render.render_location(LocationResult(region))
    parsed: dict[str, Any] = {}
    botocore.handlers.parse_get_bucket_location(parsed, _HTTPResponse(body))
    assert parsed["LocationConstraint"] == expected
    assert ET.fromstring(body).tag == f"{NS}LocationConstraint"


# Parsing what clients send.


def test_parse_complete_multipart_as_botocore_sends_it() -> None:
    body = client_sends(
        "CompleteMultipartUpload",
        {
            "Bucket": "b",
            "Key": "k",
            "UploadId": "u",
            "MultipartUpload": {
                "Parts": [
                    {"PartNumber": 1, "ETag": '"a"', "ChecksumCRC32": "AAAAAA=="},
                    {
                        "PartNumber": 3,
                        "ETag": "b",
                        "ChecksumSHA256": "s=",
                        "ChecksumCRC64NVME": "n",
                    },
                ]
            },
        },
    )
    assert xml_parse.parse_complete_multipart(body) == (
        CompletedPart(1, '"a"', (("CRC32", "AAAAAA=="),)),
        CompletedPart(3, "b", (("SHA256", "s="), ("CRC64NVME", "n"))),
    )


def test_parse_complete_multipart_without_namespace() -> None:
    body = (
        b"<CompleteMultipartUpload><Part><ETag>&quot;x&quot;</ETag>"
        b"<PartNumber> 2 </PartNumber></Part></CompleteMultipartUpload>"
    )
    assert xml_parse.parse_complete_multipart(body) == (CompletedPart(2, '"x"'),)


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ("", "MalformedXML"),
        ("<Part><PartNumber>1</PartNumber></Part>", "MalformedXML"),
        ("<Part><ETag>e</ETag></Part>", "MalformedXML"),
        ("<Part><PartNumber>abc</PartNumber><ETag>e</ETag></Part>", "MalformedXML"),
        ("<Part><PartNumber>1.5</PartNumber><ETag>e</ETag></Part>", "MalformedXML"),
        ("<Part><PartNumber>1_0</PartNumber><ETag>e</ETag></Part>", "MalformedXML"),
        (f"<Part><PartNumber>{'9' * 5000}</PartNumber><ETag>e</ETag></Part>", "MalformedXML"),
        ("<Part><PartNumber>\u0663</PartNumber><ETag>e</ETag></Part>", "MalformedXML"),
        (
            "<Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>e</ETag></Part>",
            "MalformedXML",
        ),
        ("<Part><PartNumber><x/></PartNumber><ETag>e</ETag></Part>", "MalformedXML"),
        ("<Part><PartNumber>0</PartNumber><ETag>e</ETag></Part>", "InvalidArgument"),
        ("<Part><PartNumber>-1</PartNumber><ETag>e</ETag></Part>", "InvalidArgument"),
        ("<Part><PartNumber>10001</PartNumber><ETag>e</ETag></Part>", "InvalidPart"),
        (
            "<Part><PartNumber>2</PartNumber><ETag>e</ETag></Part>"
            "<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>",
            "InvalidPartOrder",
        ),
        (
            "<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>"
            "<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>",
            "InvalidPartOrder",
        ),
    ],
)
def test_parse_complete_multipart_refusals(parts: str, code: str) -> None:
    body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
    with pytest.raises(S3Error) as excinfo:
        xml_parse.parse_complete_multipart(body)
    assert error_code(excinfo) == code


def test_parse_complete_multipart_accepts_10000_parts_and_the_edges() -> None:
    parts = "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>e</ETag></Part>" for n in range(1, 10001)
    )
    body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
    parsed = xml_parse.parse_complete_multipart(body)
    assert len(parsed) == 10000
    assert (parsed[0].part_number, parsed[-1].part_number) == (1, 10000)


@settings(max_examples=200, deadline=None)
@given(
    objects=st.lists(
        st.tuples(XML_TEXT.filter(bool), st.none() | st.text("abc123", min_size=1)),
        min_size=1,
        max_size=10,
    ),
    quiet=st.booleans(),
)
def test_parse_delete_as_botocore_sends_it(
    objects: list[tuple[str, str | None]], quiet: bool
) -> None:
    sent = [{"Key": k} | ({"VersionId": v} if v else {}) for k, v in objects]
    body = client_sends(
        "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": sent, "Quiet": quiet}}
    )
    assert xml_parse.parse_delete(body) == (
        tuple(ObjectIdentifier(k, v) for k, v in objects),
        quiet,
    )


def test_parse_delete_quiet_defaults_to_false_and_keeps_spaces() -> None:
    body = b"<Delete><Object><Key> spaced </Key></Object></Delete>"
    assert xml_parse.parse_delete(body) == ((ObjectIdentifier(" spaced "),), False)


def test_parse_delete_accepts_1000_objects() -> None:
    body = ("<Delete>" + "<Object><Key>k</Key></Object>" * 1000 + "</Delete>").encode()
    assert len(xml_parse.parse_delete(body)[0]) == 1000


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<Delete><Object><Key>k</Key></Object>",
        b"<Delete></Delete>",
        b"<Delete><Quiet>true</Quiet></Delete>",
        b"<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        b"<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
        b"<Delete><Object><Key>k</Key></Object><Quiet>maybe</Quiet></Delete>",
        b"<Delete><Object><Key>a&#x1;</Key></Object></Delete>",
        b"<Tagging><Object><Key>k</Key></Object></Tagging>",
        ("<Delete>" + "<Object><Key>k</Key></Object>" * 1001 + "</Delete>").encode(),
    ],
)
def test_parse_delete_refusals(body: bytes) -> None:
    with pytest.raises(S3Error) as excinfo:
        xml_parse.parse_delete(body)
    assert error_code(excinfo) == "MalformedXML"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Delete><Object><Key>&lol4;</Key></Object></Delete>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Tagging><TagSet><Tag><Key>k</Key><Value>&secret;</Value></Tag></TagSet></Tagging>"""

BARE_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Tagging>
<Tagging><TagSet/></Tagging>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, BARE_DTD])
def test_entities_and_dtds_are_refused(body: bytes) -> None:
    for parse in (xml_parse.parse_delete, xml_parse.parse_tagging):
        with pytest.raises(S3Error) as excinfo:
            parse(body)
        assert error_code(excinfo) == "MalformedXML"


@pytest.mark.parametrize(
    "parse",
    [
        xml_parse.parse_delete,
        xml_parse.parse_complete_multipart,
        xml_parse.parse_tagging,
        xml_parse.parse_create_bucket,
    ],
)
def test_oversize_bodies_are_refused_before_parsing(parse: Any) -> None:
    body = b"<Tagging>" + b" " * 200 + b"</Tagging>"
    with pytest.raises(S3Error) as excinfo:
        parse(body, max_bytes=100)
    assert error_code(excinfo) == "MaxMessageLengthExceeded"
    assert excinfo.value.http_status == 400


def test_default_caps_hold_the_largest_real_documents() -> None:
    key = "k" * 1024
    body = client_sends(
        "DeleteObjects",
        {"Bucket": "b", "Delete": {"Objects": [{"Key": key, "VersionId": "v" * 64}] * 1000}},
    )
    assert len(xml_parse.parse_delete(body)[0]) == 1000


@given(tags=st.lists(st.tuples(XML_TEXT, XML_TEXT), max_size=12))
@settings(max_examples=200, deadline=None)
def test_parse_tagging_as_botocore_sends_it(tags: list[tuple[str, str]]) -> None:
    tag_set = [{"Key": k, "Value": v} for k, v in tags]
    body = client_sends(
        "PutObjectTagging", {"Bucket": "b", "Key": "k", "Tagging": {"TagSet": tag_set}}
    )
    assert xml_parse.parse_tagging(body) == tuple(tags)


@pytest.mark.parametrize(
    "body",
    [
        b"<Tagging></Tagging>",
        b"<Tagging><TagSet/><TagSet/></Tagging>",
        b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
        b"<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",
    ],
)
def test_parse_tagging_refusals(body: bytes) -> None:
    with pytest.raises(S3Error) as excinfo:
        xml_parse.parse_tagging(body)
    assert error_code(excinfo) == "MalformedXML"


def test_parse_tagging_empty_value_and_empty_set() -> None:
    body = b"<Tagging><TagSet><Tag><Key>k</Key><Value/></Tag></TagSet></Tagging>"
    assert xml_parse.parse_tagging(body) == (("k", ""),)
    assert xml_parse.parse_tagging(b"<Tagging><TagSet/></Tagging>") == ()


def test_parse_create_bucket_as_botocore_sends_it() -> None:
    body = client_sends(
        "CreateBucket",
        {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    )
    assert xml_parse.parse_create_bucket(body) == "eu-west-1"
    assert client_sends("CreateBucket", {"Bucket": "b"}) == b""
    assert xml_parse.parse_create_bucket(b"") is None
    assert xml_parse.parse_create_bucket(b"  \n") is None
    assert xml_parse.parse_create_bucket(b"<CreateBucketConfiguration/>") is None
    empty = b"<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>"
    assert xml_parse.parse_create_bucket(empty) is None


@pytest.mark.parametrize(
    "body",
    [
        b"<LocationConstraint>eu-west-1</LocationConstraint>",
        b"<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint>",
        b"<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint>"
        b"<LocationConstraint>b</LocationConstraint></CreateBucketConfiguration>",
    ],
)
def test_parse_create_bucket_refusals(body: bytes) -> None:
    with pytest.raises(S3Error) as excinfo:
        xml_parse.parse_create_bucket(body)
    assert error_code(excinfo) == "MalformedXML"
