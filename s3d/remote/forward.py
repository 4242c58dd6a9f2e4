"""Forwarding: an S3 operation s3d has no typed form for, sent to the remote as it came.

The request keeps the client's method, bucket, key, query and parameter headers and body;
it is addressed as the S3 client addresses the bucket (botocore resolves the URL: path or
virtual style, AWS regional endpoints) and re-signed with the remote's credentials (SigV4,
botocore's signer, credentials refreshed as botocore does). The answer streams back as it is;
an error answer becomes the same ``S3Error`` a typed call would raise, so the remote's signing
details never reach the client. Signed bodies are configuration documents, read whole (the
signature hashes them); an unsigned request (``server.anonymous = "remote"``) is sent without
any signature, its body streamed from the staging file.

Owns one aiohttp session, open between ``__aenter__`` and ``aclose``.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from yarl import URL

from s3d.protocol import operations as ops
from s3d.protocol.checksums import ALGORITHMS
from s3d.protocol.errors import (
    InternalError,
    MaxMessageLengthExceeded,
    NoSuchBucket,
    NoSuchKey,
    ServiceUnavailable,
)
from s3d.protocol.model import Headers, RawResponse
from s3d.remote.bodies import BodyStream
from s3d.remote.calls import call_attributes
from s3d.remote.connect import http_session
from s3d.remote.errors import error_answer, map_errors
from s3d.remote.params import SUPPLIED_BY_S3D
from s3d.remote.responses import passed_headers
from s3d.settings import RemoteSettings
from s3d.telemetry import trace, tracing

if TYPE_CHECKING:
    from s3d.staging import StagedBody

MAX_BODY = 8 * 1024 * 1024
_BODY_CHECKSUMS = frozenset(f"x-amz-checksum-{name.lower()}" for name in ALGORITHMS)


class Forwarder:
    def __init__(self, session: Any, client: Any, settings: RemoteSettings) -> None:
        self._session = session
        self._client = client
        self._settings = settings
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        """Open the HTTP session (the CA bundle loads in a worker thread)."""
        self._http = await http_session(self._settings)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session and its connections. Idempotent."""
        http, self._http = self._http, None
        if http is not None:
            await asyncio.shield(http.close())

    async def forward(
        self, op: ops.Forwarded, body: StagedBody | None, *, signed: bool = True
    ) -> RawResponse:
        """Send ``op`` to the remote, signed with the remote's credentials unless ``signed``
        is false; the answer's body streams until closed. Raises the remote's error as
        S3Error, ServiceUnavailable when it cannot be reached and MaxMessageLengthExceeded
        for a signed body over ``MAX_BODY``; cancellation abandons the request and its
        connection."""
        http = self._http
        if http is None:
            raise ServiceUnavailable("The remote S3 client is closed")
        where = {"Bucket": op.bucket, "Key": op.key}
        attributes = call_attributes(op.action, where) if tracing() else None
        with trace(f"S3.{op.action}", attributes, kind="client"):
            return await self._forward(http, op, body, signed)

    async def _forward(
        self, http: aiohttp.ClientSession, op: ops.Forwarded, body: StagedBody | None, signed: bool
    ) -> RawResponse:
        url, sent = await self.url(op), dict(_headers(op.headers, body))
        data: object = None
        if signed:
            request = AWSRequest(method=op.method, url=url, headers=sent, data=await _read(body))
            await self._sign(request)
            prepared = request.prepare()
            url, sent, data = prepared.url, dict(prepared.headers.items()), prepared.body
        elif body is not None:
            # Nothing hashes an unsigned body: it streams from disk, of any size.
            sent["content-length"] = str(body.size)
            # A small body may still be in memory (staging keeps those; nothing is at its path).
            data = body.data if body.data is not None else _chunks(body)
        with map_errors():
            response = await http.request(
                op.method,
                URL(url, encoded=True),
                headers=sent,
                data=data,
                allow_redirects=False,
            )
        if response.status >= 300:
            raise await error_answer(response, NoSuchKey if op.key is not None else NoSuchBucket)
        headers = passed_headers(response.headers)
        if op.method == "HEAD":
            response.release()
            return RawResponse(response.status, headers)
        return RawResponse(
            response.status, headers, BodyStream(response.content.read, response.close)
        )

    async def url(self, op: ops.Forwarded) -> str:
        """The URL botocore's endpoint rules give the bucket and key, with the op's query.
        Raises InvalidArgument for a bucket name botocore refuses; no I/O."""
        if op.bucket is None:
            method, params = "list_buckets", {}
        elif op.key is None:
            method, params = "head_bucket", {"Bucket": op.bucket}
        else:
            method, params = "head_object", {"Bucket": op.bucket, "Key": op.key}
        with map_errors():
            presigned: str = await self._client.generate_presigned_url(method, Params=params)
        scheme, netloc, path, _, _ = urlsplit(presigned)
        query = "&".join(
            _quote(name) + (f"={_quote(value)}" if value else "") for name, value in op.query
        )
        return urlunsplit((scheme, netloc, path, query, ""))

    async def _sign(self, request: AWSRequest) -> None:
        with map_errors():
            credentials = await self._session.get_credentials()
            if credentials is None:
                raise ServiceUnavailable("s3d has no usable credentials for the remote S3 endpoint")
            frozen = await credentials.get_frozen_credentials()
        # Signing hashes the body (up to MAX_BODY): off the event loop.
        auth = S3SigV4Auth(frozen, "s3", self._client.meta.region_name)
        await asyncio.to_thread(auth.add_auth, request)


def _quote(value: str) -> str:
    return quote(value, safe="-_.~")


def _headers(headers: Headers, body: StagedBody | None) -> Headers:
    kept = tuple(
        (name, value)
        for name, value in headers
        if name not in SUPPLIED_BY_S3D and not (body is not None and name in _BODY_CHECKSUMS)
    )
    if body is None:
        return kept
    digest = base64.b64encode(body.md5).decode("ascii")
    checksums = tuple((f"x-amz-checksum-{alg.lower()}", value) for alg, value in body.checksums)
    return (*kept, ("content-md5", digest), *checksums)


async def _read(body: StagedBody | None) -> bytes:
    if body is None:
        return b""
    if body.size > MAX_BODY:
        raise MaxMessageLengthExceeded()
    return await asyncio.to_thread(body.read_bytes)


async def _chunks(body: StagedBody, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """The staged body in pieces, read in a worker thread."""
    with await asyncio.to_thread(open, body.path, "rb") as file:
        done = 0
        while done < body.size:
            piece = await asyncio.to_thread(
                os.pread, file.fileno(), min(size, body.size - done), body.offset + done
            )
            if not piece:
                raise InternalError("the staged body is shorter than its size")
            done += len(piece)
            yield piece
