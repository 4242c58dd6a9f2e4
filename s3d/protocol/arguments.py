"""Reading an operation's arguments from the query and headers, as S3 reads them.

``Args`` holds one request's decoded query, kept headers and XML document; the readers here
refuse what S3 refuses (integers that are not int32, part numbers outside 1..10000, a copy
source that does not decode) with S3's codes and messages.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_to_bytes

from s3d.protocol import operations as ops
from s3d.protocol.conditions import Conditions
from s3d.protocol.errors import InvalidArgument, MalformedXML
from s3d.protocol.model import Headers, header
from s3d.protocol.names import check_bucket_name, check_key
from s3d.protocol.routing import Target


class Args:
    """One request's arguments: target, decoded query, kept headers, XML document."""

    __slots__ = ("bucket_or_none", "document", "headers", "key_or_none", "params")

    def __init__(
        self, target: Target, params: dict[str, str], headers: Headers, document: bytes | None
    ) -> None:
        self.bucket_or_none = target.bucket
        self.key_or_none = target.key
        self.params = params
        self.headers = headers
        self.document = document

    @property
    def bucket(self) -> str:
        assert self.bucket_or_none is not None
        return self.bucket_or_none

    @property
    def key(self) -> str:
        assert self.key_or_none is not None
        return self.key_or_none

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    def conditions(self) -> Conditions:
        return Conditions.from_values(
            self.header("if-match"),
            self.header("if-none-match"),
            self.header("if-modified-since"),
            self.header("if-unmodified-since"),
        )

    def integer(self, name: str, default: int, low: int = 0, high: int | None = None) -> int:
        """A query integer as S3 reads it: absent or empty is ``default``; anything that is
        not an int32 is refused, an int32 below ``low`` too; above ``high`` it is capped."""
        raw = self.params.get(name)
        if not raw:
            return default
        # Not int(): it takes " 5", "+5", "5_0" and non-ASCII digits, which S3 refuses.
        digits = raw.removeprefix("-").lstrip("0") or "0"
        ceiling = INT32_MAX + 1 if raw.startswith("-") else INT32_MAX
        if not _INTEGER.fullmatch(raw) or len(digits) > 10 or int(digits) > ceiling:
            raise InvalidArgument(
                f"Provided {name} not an integer or within integer range",
                ArgumentName=name,
                ArgumentValue=raw,
            )
        value = -int(digits) if raw.startswith("-") else int(digits)
        if value < low:
            raise InvalidArgument(
                f"Argument {name} must be an integer between {low} and {INT32_MAX}",
                ArgumentName=name,
                ArgumentValue=str(value),
            )
        return value if high is None else min(value, high)

    def encoding_type(self) -> str | None:
        value = self.params.get("encoding-type")
        if value is None:
            return None
        if value.lower() != "url":
            raise InvalidArgument(
                "Invalid Encoding Method specified in Request",
                ArgumentName="encoding-type",
                ArgumentValue=value,
            )
        return "url"

    def xml(self) -> bytes:
        if not self.document:
            raise MalformedXML()
        return self.document


_INTEGER = re.compile(r"-?[0-9]+")
INT32_MAX = 2147483647
INT32_MIN = -INT32_MAX - 1


def part_number(args: Args) -> int:
    raw = args.params.get("partNumber", "")
    digits = raw.lstrip("0") or "0"
    if not (raw.isascii() and raw.isdigit()) or len(digits) > 5 or not 1 <= int(digits) <= 10000:
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=raw,
        )
    return int(digits)


def upload_id(args: Args) -> str:
    upload_id = args.params.get("uploadId", "")
    if not upload_id:
        raise InvalidArgument(
            "This operation does not accept an empty upload id",
            ArgumentName="uploadId",
            ArgumentValue=upload_id,
        )
    return upload_id


def copy_source(args: Args) -> ops.CopySource:
    raw = args.header("x-amz-copy-source") or ""
    path, _, query = raw.partition("?")
    decoded = copy_source_text(raw, path).lstrip("/")
    bucket, _, key = decoded.partition("/")
    if not bucket or not key:
        raise InvalidArgument(
            "Invalid copy source object key" if bucket else "Invalid copy source bucket name",
            ArgumentName="x-amz-copy-source",
            ArgumentValue=raw,
        )
    check_bucket_name(bucket)
    check_key(key)
    version_id = None
    if query:
        name, _, value = query.partition("=")
        if name != "versionId" or not value:
            raise InvalidArgument(
                "Invalid copy source version id",
                ArgumentName="x-amz-copy-source",
                ArgumentValue=raw,
            )
        version_id = unquote(value)
    conditions = Conditions.from_values(
        args.header("x-amz-copy-source-if-match"),
        args.header("x-amz-copy-source-if-none-match"),
        args.header("x-amz-copy-source-if-modified-since"),
        args.header("x-amz-copy-source-if-unmodified-since"),
    )
    return ops.CopySource(bucket, key, version_id, conditions)


_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def copy_source_text(raw: str, path: str) -> str:
    """The percent-decoded source path; a stray ``%`` or bytes that are not UTF-8 are
    S3's "Invalid copy source encoding"."""
    if not _PERCENT_ESCAPE.search(path):
        try:
            return unquote_to_bytes(path.encode("utf-8", "surrogateescape")).decode("utf-8")
        except UnicodeDecodeError:
            pass
    raise InvalidArgument(
        "Invalid copy source encoding.", ArgumentName="x-amz-copy-source", ArgumentValue=raw
    )
