"""Request headers to botocore parameters, through the S3 service model.

An operation's ``headers`` are the client's request headers that are its parameters. Each
input member of the botocore operation located in a header (``location == "header"``) is
found by its header name, each prefix map (``location == "headers"``, ``x-amz-meta-`` →
Metadata) by its prefix; values are coerced by the member's shape type. So every header S3
documents reaches the remote without a field written for it here.

Headers s3d supplies itself (length, Content-MD5, body checksums, signing) are never taken
from the client's headers: ``supplied`` maps s3d's own values through the same model. The
tables are built once per operation name and kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from s3d.protocol.errors import InvalidArgument
from s3d.protocol.model import Headers

SUPPLIED_BY_S3D = frozenset(
    {
        "authorization",
        "content-length",
        "content-md5",
        "expect",
        "host",
        "transfer-encoding",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-decoded-content-length",
        "x-amz-sdk-checksum-algorithm",
        "x-amz-security-token",
        "x-amz-trailer",
    }
)
"""Headers set by s3d, the transport or the signer, whatever the client sent."""
# Operations whose request body s3d or botocore produces: the body's checksums are theirs.
_OWN_BODY = frozenset({"PutObject", "UploadPart", "DeleteObjects", "PutObjectTagging"})
# Headers a typed field of the operation stands for.
_TYPED = {
    "GetObject": frozenset({"range"}),
    "HeadObject": frozenset({"range"}),
    "CopyObject": frozenset({"x-amz-copy-source"}),
    "UploadPartCopy": frozenset({"x-amz-copy-source"}),
}
# Dates S3 ignores when they do not parse (conditions); Expires cannot pass botocore unparsed.
_IGNORED_WHEN_INVALID = frozenset(
    {
        "expires",
        "if-modified-since",
        "if-unmodified-since",
        "x-amz-copy-source-if-modified-since",
        "x-amz-copy-source-if-unmodified-since",
    }
)
_NOT_BODY_CHECKSUMS = frozenset(
    {"x-amz-checksum-algorithm", "x-amz-checksum-mode", "x-amz-checksum-type"}
)


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    kind: str


@dataclass(slots=True)
class _Table:
    headers: dict[str, _Member] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    queries: dict[str, _Member] = field(default_factory=dict)
    ignored: frozenset[str] = frozenset()


class HeaderParams:
    """Maps headers to the parameters of the operations of one botocore service model."""

    def __init__(self, service_model: Any) -> None:
        self._model = service_model
        self._tables: dict[str, _Table] = {}

    def params(self, operation: str, headers: Headers) -> dict[str, object]:
        """The client's ``headers`` as parameters of ``operation``; unknown ones are dropped.

        Raises InvalidArgument for a value its member's type cannot hold, except dates S3
        ignores when they do not parse (conditions): those are left out."""
        table = self._table(operation)
        return _map(table, ((n, v) for n, v in headers if n not in table.ignored))

    def passed(self, operation: str, headers: Headers) -> list[tuple[str, str]]:
        """The client's ``headers`` that ``params`` would keep, as they came: for a request
        s3d sends without botocore. Raises InvalidArgument as ``params`` does."""
        table = self._table(operation)
        kept: list[tuple[str, str]] = []
        for name, value in headers:
            member = table.headers.get(name)
            if name in table.ignored:
                continue
            if member is not None:
                try:
                    _coerce(member.kind, value)
                except (ValueError, TypeError, IndexError, OverflowError):
                    if name in _IGNORED_WHEN_INVALID:
                        continue
                    raise _invalid(name) from None
                kept.append((name, value))
            elif any(name.startswith(p) and len(name) > len(p) for p in table.prefixes):
                kept.append((name, value))
        return kept

    def supplied(self, operation: str, headers: Headers) -> dict[str, object]:
        """Headers s3d computed itself (Content-MD5, checksums…) as parameters."""
        return _map(self._table(operation), headers)

    def overrides(
        self, operation: str, overrides: tuple[tuple[str, str], ...]
    ) -> dict[str, object]:
        """``response-*`` overrides given as (header name, value) as parameters."""
        table = self._table(operation)
        params: dict[str, object] = {}
        for name, value in overrides:
            member = table.queries.get(f"response-{name.lower()}")
            if member is not None:
                try:
                    params[member.name] = _coerce(member.kind, value)
                except (ValueError, OverflowError):
                    raise _invalid(f"response-{name}") from None
        return params

    def _table(self, operation: str) -> _Table:
        table = self._tables.get(operation)
        if table is None:
            table = self._tables[operation] = self._build(operation)
        return table

    def _build(self, operation: str) -> _Table:
        table = _Table()
        shape = self._model.operation_model(operation).input_shape
        for name, member in shape.members.items() if shape is not None else ():
            location = member.serialization.get("location")
            where = str(member.serialization.get("name", name)).lower()
            if location == "header":
                table.headers[where] = _Member(name, member.type_name)
            elif location == "headers":
                table.prefixes[where] = name
            elif location == "querystring":
                table.queries[where] = _Member(name, member.type_name)
        ignored = SUPPLIED_BY_S3D | _TYPED.get(operation, frozenset())
        if operation in _OWN_BODY:
            ignored |= {
                h for h in table.headers if h.startswith("x-amz-checksum-")
            } - _NOT_BODY_CHECKSUMS
        table.ignored = ignored
        return table


def _map(table: _Table, headers: Iterable[tuple[str, str]]) -> dict[str, object]:
    raw: dict[str, str] = {}
    maps: dict[str, dict[str, str]] = {}
    for name, value in headers:
        if name in table.headers:
            raw[name] = f"{raw[name]},{value}" if name in raw else value
            continue
        for prefix, member_name in table.prefixes.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                entries = maps.setdefault(member_name, {})
                key = name[len(prefix) :]
                entries[key] = f"{entries[key]},{value}" if key in entries else value
                break
    params: dict[str, object] = {}
    for name, value in raw.items():
        member = table.headers[name]
        try:
            params[member.name] = _coerce(member.kind, value)
        except (ValueError, TypeError, IndexError, OverflowError):
            if name not in _IGNORED_WHEN_INVALID:
                raise _invalid(name) from None
    params.update(maps)
    return params


def _invalid(header: str) -> InvalidArgument:
    return InvalidArgument(f"The value of the {header} header is not valid", ArgumentName=header)


def _coerce(kind: str, value: str) -> object:
    """``value`` as the shape type ``kind`` holds; ValueError when it cannot."""
    if kind in ("integer", "long"):
        return int(value.strip())
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(value)
        return lowered == "true"
    if kind == "timestamp":
        return _timestamp(value.strip())
    if kind == "list":
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _timestamp(value: str) -> datetime:
    """An HTTP date (RFC 7231) or an ISO 8601 time (object lock headers)."""
    if value[:1].isdigit():
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        parsed = parsedate_to_datetime(value)
    if parsed.tzinfo is None:
        raise ValueError(value)
    return parsed
