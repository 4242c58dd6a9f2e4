"""Results to HTTP responses: S3 documents, object streams and error XML.

The one place where ``S3Error`` becomes an HTTP answer. Object bodies are streamed in the
chunks the remote or the cache yields, or sent from a cached file with sendfile; the body is
always closed, also when the client goes away mid-transfer.
"""

from __future__ import annotations

import logging
import re
import secrets

from aiohttp import web

from s3d.protocol import operations as ops
from s3d.protocol import xml_render as render
from s3d.protocol.errors import S3Error
from s3d.protocol.model import (
    FROM_REMOTE,
    ByteStream,
    CompleteMultipartResult,
    CopyResult,
    CreateMultipartResult,
    DeleteObjectsResult,
    Headers,
    ListBucketsResult,
    ListMultipartUploadsResult,
    ListObjectsResult,
    ListPartsResult,
    LocalFile,
    LocationResult,
    ObjectResponse,
    Provenance,
    RawResponse,
    Result,
    TaggingResult,
    WriteResult,
)
from s3d.server.sendfile import BODY_SENT, CLIENT_GONE, client_gone, send_local, without_length

log = logging.getLogger("s3d.server")

XML = "application/xml"
SERVER_NAME = "s3d"


def new_request_id() -> str:
    return secrets.token_hex(8).upper()


def stamp_ids(response: web.StreamResponse, request_id: str) -> None:
    """The headers every answer carries: the request id (twice, as S3 does) and the server."""
    response.headers["x-amz-request-id"] = request_id
    response.headers["x-amz-id-2"] = request_id
    response.headers["Server"] = SERVER_NAME


_WITH_PROVENANCE = (
    ObjectResponse,
    WriteResult,
    CopyResult,
    CreateMultipartResult,
    CompleteMultipartResult,
    DeleteObjectsResult,
    TaggingResult,
)
"""Results that say where they came from; with a forwarded answer, those carrying headers of
their own (listings and the like have none)."""
_HEADED = (*_WITH_PROVENANCE, RawResponse)

_NO_CONTENT = (
    ops.DeleteObject,
    ops.DeleteBucket,
    ops.AbortMultipartUpload,
    ops.DeleteObjectTagging,
)


def provenance_headers(provenance: Provenance | None) -> Headers:
    """Where an answer came from, as s3d tells clients: ``x-s3d-cache`` (how the read cache
    answered) and ``x-s3d-state`` (pending upload, or handed over by the journal once
    uploaded)."""
    if provenance is None:
        return ()
    shown = (("x-s3d-cache", provenance.cache), ("x-s3d-state", provenance.state))
    return tuple((name, value) for name, value in shown if value is not None)


async def respond(request: web.Request, op: ops.Operation, result: Result) -> web.StreamResponse:
    """The HTTP response for ``result``; object bodies are streamed before this returns."""
    headers = result.headers if isinstance(result, _HEADED) else ()
    if isinstance(result, _WITH_PROVENANCE) and result.provenance is not FROM_REMOTE:
        headers = (*headers, *provenance_headers(result.provenance))
    match result:
        case ObjectResponse(body=LocalFile() as local):
            return await send_local(request, result.status, headers, local)
        case ObjectResponse(body=bytes() as data):
            response = web.Response(body=data, status=result.status, headers=_multi(headers))
            response[BODY_SENT] = len(data)
            return response
        case ObjectResponse(body=body) | RawResponse(body=body) if body is not None:
            assert not isinstance(body, LocalFile | bytes)
            return await _stream(request, result.status, headers, body)
        case ObjectResponse() | RawResponse():
            # HEAD: the length of the object, not of this (empty) body.
            return web.Response(status=result.status, headers=list(headers))
        case WriteResult():
            status = 204 if isinstance(op, _NO_CONTENT) and result.status == 200 else result.status
            return web.Response(status=status, headers=_multi(headers))
    document = _document(result)
    return web.Response(body=document, status=200, headers=_multi(headers), content_type=XML)


def _document(result: Result) -> bytes:
    match result:
        case ListObjectsResult():
            return render.render_list_objects(result)
        case ListBucketsResult():
            return render.render_list_buckets(result)
        case CopyResult():
            return render.render_copy(result)
        case CreateMultipartResult():
            return render.render_create_multipart(result)
        case CompleteMultipartResult():
            return render.render_complete_multipart(result)
        case DeleteObjectsResult():
            return render.render_delete_objects(result)
        case TaggingResult():
            return render.render_tagging(result)
        case LocationResult():
            return render.render_location(result)
        case ListMultipartUploadsResult():
            return render.render_list_multipart_uploads(result)
        case ListPartsResult():
            return render.render_list_parts(result)
    raise TypeError(f"no document for {type(result).__name__}")


_multi = without_length


async def _stream(
    request: web.Request, status: int, headers: Headers, body: ByteStream
) -> web.StreamResponse:
    try:
        response = web.StreamResponse(status=status, headers=_multi(headers))
        response[BODY_SENT] = 0
        length = next((v for n, v in headers if n == "content-length"), None)
        if length is not None:
            response.content_length = int(length)
        await response.prepare(request)
        try:
            async for chunk in body:
                await response.write(chunk)
                response[BODY_SENT] += len(chunk)
        except Exception as exc:
            # The status line is gone already, so no error document can follow: close the
            # connection so the client sees a body shorter than its Content-Length. A client
            # that went away is no fault of s3d's: said at INFO.
            gone = client_gone(request)
            response[CLIENT_GONE] = gone
            (log.info if gone else log.warning)(
                "response body cut short (%s: %s)", type(exc).__name__, exc
            )
            response.force_close()
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        return response
    finally:
        await body.aclose()


def error_response(
    error: S3Error, request_id: str, *, head: bool, resource: str | None
) -> web.Response:
    """S3 error XML (no body for HEAD and 304, as S3 answers)."""
    headers = dict(error.headers)
    headers.update(provenance_headers(error.provenance))
    status = error.http_status
    if head or status == 304:
        return web.Response(status=status, headers=headers)
    document = render.render_error(
        error.error_code,
        error.message,
        request_id,
        host_id=request_id,
        resource=resource,
        details={name: _redact(value) for name, value in error.details.items()},
    )
    return web.Response(body=document, status=status, headers=headers, content_type=XML)


# The values of these headers (and of the token's query form) are secrets of the client's: an
# SSE-C key, a session token. A signature error echoes the signed request (CanonicalRequest,
# StringToSign) so that clients can compare; those lines are echoed with the value withheld.
_SECRET_HEADER_LINE = re.compile(
    r"^((?:x-amz-(?:copy-source-)?server-side-encryption-customer-key|x-amz-security-token):)"
    r".*$",
    re.IGNORECASE | re.MULTILINE,
)
_SECRET_QUERY_VALUE = re.compile(
    r"((?:^|[&?])X-Amz-Security-Token=)[^&\n]*", re.IGNORECASE | re.MULTILINE
)
WITHHELD = "(withheld)"


def _redact(value: str) -> str:
    value = _SECRET_HEADER_LINE.sub(rf"\g<1>{WITHHELD}", value)
    return _SECRET_QUERY_VALUE.sub(rf"\g<1>{WITHHELD}", value)
