"""From a located, named request to a typed operation, validated as S3 validates it.

``build`` takes the action ``routing.route`` named, the target, the decoded query, the
request headers and — for operations whose body is an XML document — that document, already
verified against its signature and digests. It raises the S3 error a real endpoint gives for
an argument it refuses; nothing has been stored at that point.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from s3d.protocol import operations as ops
from s3d.protocol import xml_parse
from s3d.protocol.arguments import (
    INT32_MAX,
    INT32_MIN,
    Args,
    copy_source,
    part_number,
    upload_id,
)
from s3d.protocol.conditions import Conditions
from s3d.protocol.errors import (
    InvalidArgument,
    InvalidRequest,
    InvalidStorageClass,
    MetadataTooLarge,
)
from s3d.protocol.model import Headers
from s3d.protocol.names import check_bucket_name
from s3d.protocol.ranges import parse_copy_source_range, parse_range
from s3d.protocol.routing import Query, Target, is_auth_parameter
from s3d.protocol.tagging import parse_tagging_header, validate_tags

XML_BODY_ACTIONS = frozenset(
    {"CreateBucket", "CompleteMultipartUpload", "DeleteObjects", "PutObjectTagging"}
)
DATA_BODY_ACTIONS = frozenset({"PutObject", "UploadPart"})

_TRANSPORT_HEADERS = frozenset(
    {
        "authorization",
        "host",
        "content-length",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-decoded-content-length",
        "x-amz-trailer",
        "expect",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "user-agent",
        "accept-encoding",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "proxy-authorization",
    }
)

_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}


def operation_headers(headers: Headers) -> Headers:
    """The request headers that are the operation's own parameters: authentication and
    transport headers removed, ``aws-chunked`` dropped from Content-Encoding."""
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if name in _TRANSPORT_HEADERS:
            continue
        if name == "content-encoding":
            codings = [c.strip() for c in value.split(",") if c.strip().lower() != "aws-chunked"]
            if not codings:
                continue
            value = ",".join(codings)
        kept.append((name, value))
    return tuple(kept)


def build(
    action: str,
    target: Target,
    query: Query,
    headers: Headers,
    document: bytes | None = None,
    method: str = "GET",
) -> ops.Operation:
    """The typed operation for ``action``. Raises the S3 error for a refused argument."""
    params = {name: value for name, value in reversed(query)}
    kept = operation_headers(headers)
    builder = _BUILDERS.get(action)
    if builder is None:
        return ops.Forwarded(
            action=action,
            method=method,
            bucket=target.bucket,
            key=target.key,
            query=tuple((n, v) for n, v in query if not is_auth_parameter(n)),
            headers=kept,
        )
    return builder(Args(target, params, kept, document))


PINNED_ETAG = "x-s3d-if-match"
"""s3d's own query parameter: ``If-Match`` carried inside a presigned URL (and so covered by
its signature). DRS access URLs carry it, so that a URL handed out for an object's bytes
answers 412 rather than other bytes written to the key since."""


def _get_object(args: Args, head: bool) -> ops.GetObject:
    part = None
    if "partNumber" in args.params:
        part = part_number(args)
        if args.header("range") is not None:
            raise InvalidRequest("Cannot specify both Range header and partNumber query parameter")
    overrides = tuple(
        (name, args.params[param]) for param, name in _OVERRIDES.items() if param in args.params
    )
    conditions, headers = args.conditions(), args.headers
    pinned = args.params.get(PINNED_ETAG)
    if pinned and conditions.if_match is None:
        # As an If-Match header, for every layer: the cache, the journal, the remote.
        pin = Conditions.from_values(pinned, None, None, None)
        conditions = dataclasses.replace(conditions, if_match=pin.if_match)
        headers = (*headers, ("if-match", pinned))
    return ops.GetObject(
        bucket=args.bucket,
        key=args.key,
        head=head,
        range=parse_range(args.header("range")),
        conditions=conditions,
        version_id=args.params.get("versionId"),
        part_number=part,
        overrides=overrides,
        headers=headers,
    )


_VERSION_ONLY = {
    1: (("marker", "Marker unsupported with REST.GET.BUCKET in list-type=2"),),
    2: (
        (
            "continuation-token",
            "continuation-token only supported in REST.GET.BUCKET with list-type=2",
        ),
        ("start-after", "startAfter only supported in REST.GET.BUCKET with list-type=2"),
    ),
}
"""Parameters of one listing version that S3 refuses in the other (any value, empty too)."""


def _list_objects(args: Args, version: int) -> ops.ListObjects:
    # S3's order: max-keys parses, the other version's parameters are refused, then
    # encoding-type, the continuation token and the max-keys range are judged.
    max_keys = args.integer("max-keys", 1000, INT32_MIN)
    for name, message in _VERSION_ONLY[1 if version == 2 else 2]:
        if name in args.params:
            raise InvalidArgument(message, ArgumentName=name)
    encoding_type = args.encoding_type()
    token = args.params.get("continuation-token")
    if version == 2 and token == "":
        raise InvalidArgument(
            "The continuation token provided is incorrect", ArgumentName="continuation-token"
        )
    if max_keys < 0:
        raise InvalidArgument(
            f"Argument maxKeys must be an integer between 0 and {INT32_MAX}",
            ArgumentName="maxKeys",
            ArgumentValue=str(max_keys),
        )
    return ops.ListObjects(
        bucket=args.bucket,
        version=version,
        prefix=args.params.get("prefix", ""),
        delimiter=args.params.get("delimiter") or None,
        max_keys=min(max_keys, 1000),
        encoding_type=encoding_type,
        marker=args.params.get("marker") if version == 1 else None,
        continuation_token=token if version == 2 else None,
        start_after=args.params.get("start-after") if version == 2 else None,
        fetch_owner=args.params.get("fetch-owner", "").lower() == "true",
        headers=args.headers,
    )


_STORAGE_CLASSES = frozenset(
    {
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "OUTPOSTS",
        "GLACIER_IR",
        "SNOW",
        "EXPRESS_ONEZONE",
        "FSX_OPENZFS",
        "FSX_ONTAP",
    }
)
_MAX_METADATA_BYTES = 2048


def _check_new_object(args: Args) -> None:
    """What S3 checks of the headers that describe a new object (PUT, copy, multipart)."""
    storage_class = args.header("x-amz-storage-class")
    if storage_class is not None and storage_class not in _STORAGE_CLASSES:
        raise InvalidStorageClass(StorageClassRequested=storage_class)
    size = sum(
        len(_utf8(name[len("x-amz-meta-") :])) + len(_utf8(value))
        for name, value in args.headers
        if name.startswith("x-amz-meta-")
    )
    if size > _MAX_METADATA_BYTES:
        raise MetadataTooLarge(Size=str(size), MaxSizeAllowed=str(_MAX_METADATA_BYTES))
    tagging = args.header("x-amz-tagging")
    if tagging is not None:
        validate_tags(parse_tagging_header(tagging))


def _utf8(text: str) -> bytes:
    # Header bytes that are not UTF-8 arrive as surrogate escapes; count them as the bytes sent.
    return text.encode("utf-8", "surrogateescape")


def _put_object(args: Args) -> ops.PutObject:
    _check_new_object(args)
    return ops.PutObject(args.bucket, args.key, args.conditions(), args.headers)


def _copy_object(args: Args) -> ops.CopyObject:
    _check_new_object(args)
    return ops.CopyObject(args.bucket, args.key, copy_source(args), args.headers)


def _create_multipart(args: Args) -> ops.CreateMultipartUpload:
    _check_new_object(args)
    return ops.CreateMultipartUpload(args.bucket, args.key, args.headers)


def _upload_part_copy(args: Args) -> ops.UploadPartCopy:
    upload, part, source = upload_id(args), part_number(args), copy_source(args)
    # Only its form is judged here; whether it fits the source is the remote's to say.
    parse_copy_source_range(args.header("x-amz-copy-source-range"))
    return ops.UploadPartCopy(args.bucket, args.key, upload, part, source, args.headers)


def _delete_objects(args: Args) -> ops.DeleteObjects:
    objects, quiet = xml_parse.parse_delete(args.xml())
    return ops.DeleteObjects(args.bucket, objects, quiet, args.headers)


def _put_object_tagging(args: Args) -> ops.PutObjectTagging:
    tags = xml_parse.parse_tagging(args.xml())
    validate_tags(tags)
    return ops.PutObjectTagging(
        args.bucket, args.key, tags, args.params.get("versionId"), args.headers
    )


def _list_uploads(args: Args) -> ops.ListMultipartUploads:
    return ops.ListMultipartUploads(
        bucket=args.bucket,
        prefix=args.params.get("prefix", ""),
        delimiter=args.params.get("delimiter") or None,
        key_marker=args.params.get("key-marker") or None,
        upload_id_marker=args.params.get("upload-id-marker") or None,
        max_uploads=args.integer("max-uploads", 1000, 0, 1000),
        encoding_type=args.encoding_type(),
        headers=args.headers,
    )


def _create_bucket(args: Args) -> ops.CreateBucket:
    check_bucket_name(args.bucket, creating=True)
    location = xml_parse.parse_create_bucket(args.document) if args.document else None
    return ops.CreateBucket(args.bucket, location, args.headers)


_BUILDERS: dict[str, Callable[[Args], ops.Operation]] = {
    "ListBuckets": lambda a: ops.ListBuckets(
        prefix=a.params.get("prefix"),
        max_buckets=a.integer("max-buckets", 0, 1, 10000) or None,
        continuation_token=a.params.get("continuation-token"),
        bucket_region=a.params.get("bucket-region"),
        headers=a.headers,
    ),
    "CreateBucket": _create_bucket,
    "HeadBucket": lambda a: ops.HeadBucket(a.bucket, a.headers),
    "DeleteBucket": lambda a: ops.DeleteBucket(a.bucket, a.headers),
    "GetBucketLocation": lambda a: ops.GetBucketLocation(a.bucket, a.headers),
    "ListObjects": lambda a: _list_objects(a, 1),
    "ListObjectsV2": lambda a: _list_objects(a, 2),
    "ListMultipartUploads": _list_uploads,
    "DeleteObjects": _delete_objects,
    "GetObject": lambda a: _get_object(a, head=False),
    "HeadObject": lambda a: _get_object(a, head=True),
    "PutObject": _put_object,
    "CopyObject": _copy_object,
    "DeleteObject": lambda a: ops.DeleteObject(
        a.bucket, a.key, a.params.get("versionId"), a.headers
    ),
    "CreateMultipartUpload": _create_multipart,
    "UploadPart": lambda a: ops.UploadPart(
        a.bucket, a.key, upload_id(a), part_number(a), a.headers
    ),
    "UploadPartCopy": _upload_part_copy,
    "CompleteMultipartUpload": lambda a: ops.CompleteMultipartUpload(
        a.bucket,
        a.key,
        upload_id(a),
        xml_parse.parse_complete_multipart(a.xml()),
        a.headers,
        a.conditions(),
    ),
    "AbortMultipartUpload": lambda a: ops.AbortMultipartUpload(
        a.bucket, a.key, upload_id(a), a.headers
    ),
    "ListParts": lambda a: ops.ListParts(
        a.bucket,
        a.key,
        upload_id(a),
        a.integer("max-parts", 1000, 0, 1000),
        a.integer("part-number-marker", 0, 0),
        a.headers,
    ),
    "GetObjectTagging": lambda a: ops.GetObjectTagging(
        a.bucket, a.key, a.params.get("versionId"), a.headers
    ),
    "PutObjectTagging": _put_object_tagging,
    "DeleteObjectTagging": lambda a: ops.DeleteObjectTagging(
        a.bucket, a.key, a.params.get("versionId"), a.headers
    ),
}
