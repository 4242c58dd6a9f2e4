"""The headers of a GET or HEAD answer, from an object's stored headers (pure).

Whoever answers from local bytes (the cache, the journal's pending objects) answers with the
headers S3 would send: the object's own (Content-Type, ETag, metadata, checksums…) less what
describes one response, then, per answer, ``response-*`` overrides, ``accept-ranges``,
``content-length`` and, for a range, ``content-range``. The object's checksums describe all of
it: S3 sends them only on a whole read asked for with ``x-amz-checksum-mode: ENABLED``.
"""

from __future__ import annotations

from s3d.protocol.model import Headers, header

CHECKSUM_PREFIX = "x-amz-checksum-"


def checksums_asked(request_headers: Headers) -> bool:
    """Whether the request asks for the object's checksums (``x-amz-checksum-mode: ENABLED``)."""
    return (header(request_headers, "x-amz-checksum-mode") or "").upper() == "ENABLED"


def answer_headers(
    stored: Headers,
    size: int,
    span: tuple[int, int] | None,
    *,
    checksums: bool,
    overrides: Headers = (),
) -> Headers:
    """The headers answering for an object of ``size`` bytes with headers ``stored``: all of it
    (``span`` None) or the inclusive byte range ``span`` (already resolved against ``size``).
    ``checksums`` says the request asked for them (``checksums_asked``); ``overrides`` (the
    ``response-*`` parameters, as header name and value) replace the stored header they name."""
    replaced = {name for name, _ in overrides}
    keep_checksums = checksums and span is None
    out = [
        (name, value)
        for name, value in stored
        if name not in replaced and (keep_checksums or not name.startswith(CHECKSUM_PREFIX))
    ]
    out.extend(overrides)
    out.append(("accept-ranges", "bytes"))
    if span is None:
        out.append(("content-length", str(size)))
    else:
        first, last = span
        out.append(("content-length", str(last - first + 1)))
        out.append(("content-range", f"bytes {first}-{last}/{size}"))
    return tuple(out)
