"""The canonical request of SigV4, S3 flavour.

S3 signs the path as the client sent it, segment by segment: no dot-segment removal, no
slash merging (``normalize_path=False``). Each path segment and each query name and value is
percent-decoded, then re-encoded leaving only RFC 3986 unreserved characters bare, so that
``a+b`` signs as ``a%2Bb`` and ``%2F`` inside a key stays ``%2F`` — what botocore and the AWS
CLI sign. ``normalize_path=True`` gives the generic SigV4 of other AWS services (dot segments
removed, slashes merged), which the AWS test suite expects.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from urllib.parse import quote, unquote_to_bytes

from s3d.protocol.sigv4_model import Authorization, SignedRequest

SIGNATURE_PARAM = "X-Amz-Signature"


def _wire_bytes(text: str) -> bytes:
    # A server may hand over undecodable bytes as surrogate escapes; sign the original bytes.
    return text.encode("utf-8", "surrogateescape")


def _unquote(text: str, *, plus_as_space: bool = False) -> bytes:
    if plus_as_space:
        text = text.replace("+", " ")
    if "%" not in text:
        return _wire_bytes(text)
    return unquote_to_bytes(_wire_bytes(text))


def uri_encode(raw: bytes) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters (``A-Za-z0-9-._~``)."""
    return quote(raw, safe="")


def query_pairs(raw_query: str, *, plus_as_space: bool = False) -> Iterator[tuple[bytes, bytes]]:
    """The decoded (name, value) pairs of a raw query, in order; ``a`` alone is (a, "")."""
    for piece in raw_query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        yield (
            _unquote(name, plus_as_space=plus_as_space),
            _unquote(value, plus_as_space=plus_as_space),
        )


_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]*")


def canonical_component(raw: str, *, plus_as_space: bool = False) -> str:
    """One path segment, query name or value, decoded then re-encoded."""
    if _UNRESERVED.fullmatch(raw):
        return raw  # decoding and re-encoding would give it back unchanged
    return _recoded(raw, plus_as_space)


@functools.lru_cache(maxsize=4096)
def _recoded(raw: str, plus_as_space: bool) -> str:
    # Credentials, algorithms, signed-header lists and keys repeat from request to request.
    return uri_encode(_unquote(raw, plus_as_space=plus_as_space))


def canonical_uri(raw_path: str, *, normalize_path: bool = False) -> str:
    """The canonical URI line for a raw (still percent-encoded) path."""
    segments = (raw_path or "/").split("/")
    if normalize_path:
        segments = _remove_dot_segments(segments)
    return "/".join(canonical_component(segment) for segment in segments)


def _remove_dot_segments(segments: list[str]) -> list[str]:
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    trailing = len(segments) > 1 and segments[-1] in ("", ".", "..") and bool(kept)
    return ["", *kept, *([""] if trailing else [])] if kept else ["", ""]


def canonical_query(raw_query: str, *, presigned: bool, plus_as_space: bool = False) -> str:
    """The canonical query line: encoded pairs sorted by name then value, without
    X-Amz-Signature for presigned URLs."""
    pairs = []
    for piece in raw_query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        name = canonical_component(name, plus_as_space=plus_as_space)
        if presigned and name == SIGNATURE_PARAM:
            continue
        pairs.append((name, canonical_component(value, plus_as_space=plus_as_space)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_headers(req: SignedRequest, signed_headers: tuple[str, ...]) -> str:
    """One ``name:value\\n`` line per signed header, in the order signed: values trimmed,
    runs of whitespace collapsed, repeated headers joined with commas."""
    values: dict[str, list[str]] = {}
    for name, value in req.headers:
        values.setdefault(name, []).append(" ".join(value.split()))
    return "".join(f"{name}:{','.join(values.get(name.lower(), ()))}\n" for name in signed_headers)


def canonical_request(
    req: SignedRequest,
    auth: Authorization,
    *,
    normalize_path: bool = False,
    plus_as_space: bool = False,
) -> str:
    """The canonical request ``auth``'s signature must cover.

    ``plus_as_space`` reads a bare ``+`` in the query as a space (form encoding) instead of
    a literal plus; some presigning clients send spaces that way.
    """
    return "\n".join(
        (
            req.method,
            canonical_uri(req.raw_path, normalize_path=normalize_path),
            canonical_query(req.raw_query, presigned=auth.presigned, plus_as_space=plus_as_space),
            canonical_headers(req, auth.signed_headers),
            ";".join(auth.signed_headers),
            auth.payload_hash,
        )
    )
