"""Request bodies: streamed from the socket, decoded, hashed and staged to a local file.

The body is decoded as it arrives (aws-chunked when the signature says so), written to a
staging file in bounded pieces, and checked at its end against the plan made from the headers.
Any failure — a bad chunk signature, a digest mismatch, a body shorter than announced, the
client going away — deletes the staged file before the error leaves this module, so nothing
unverified is ever uploaded.
"""

from __future__ import annotations

import asyncio
import dataclasses

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from s3d.protocol.chunked import ChunkedDecoder
from s3d.protocol.errors import IncompleteBody, MaxMessageLengthExceeded, RequestTimeout
from s3d.protocol.integrity import BodyPlan, verify_body
from s3d.protocol.sigv4 import SigningContext
from s3d.staging import StagedBody, StagingArea, StagingWriter

MAX_DOCUMENT = 4 * 1024 * 1024
"""The largest XML or configuration document accepted (a 10,000-part completion fits)."""


async def stage_body(
    request: web.Request,
    plan: BodyPlan,
    signing: SigningContext | None,
    staging: StagingArea,
    idle_timeout: float,
) -> StagedBody:
    """Stage the body of ``request`` and verify it against ``plan``.

    Raises IncompleteBody, RequestTimeout (no data for ``idle_timeout`` seconds),
    SignatureDoesNotMatch, XAmzContentSHA256Mismatch, BadDigest, InvalidRequest. On any error
    or cancellation the staged file is deleted.
    """
    decoder = None
    if plan.chunked:
        decoder = ChunkedDecoder(
            signing=signing if plan.signed_chunks else None,
            trailer=plan.trailer,
            decoded_length=plan.length,
        )
    async with staging.writer(plan.algorithms, plan.length) as writer:
        await _copy(request, decoder, writer, plan.length, idle_timeout)
        trailers = decoder.finish() if decoder is not None else {}
        staged = await writer.finish()
    try:
        verified = verify_body(
            plan,
            size=staged.size,
            md5=staged.md5,
            sha256=staged.sha256,
            computed=dict(staged.checksums),
            trailers=trailers,
        )
    except BaseException:
        await staging.discard(staged)
        raise
    return dataclasses.replace(staged, checksums=verified)


async def _copy(
    request: web.Request,
    decoder: ChunkedDecoder | None,
    writer: StagingWriter,
    length: int,
    idle_timeout: float,
) -> None:
    content = request.content
    try:
        while True:
            async with asyncio.timeout(idle_timeout):
                data = await content.readany()
            if not data:
                return
            pieces = decoder.feed(data) if decoder is not None else (data,)
            for piece in pieces:
                await writer.write(piece)
            if writer.size > length:
                raise IncompleteBody("The body is longer than announced.")
    except TimeoutError:
        raise RequestTimeout() from None
    except (HttpProcessingError, ConnectionError) as exc:
        raise IncompleteBody() from exc


async def read_document(body: StagedBody | None) -> bytes | None:
    """The staged body of a control operation (an XML or JSON document), size-capped."""
    if body is None or body.size == 0:
        return None
    if body.size > MAX_DOCUMENT:
        raise MaxMessageLengthExceeded(MaxMessageLengthBytes=str(MAX_DOCUMENT))
    if body.data is not None:
        return body.data
    return await asyncio.to_thread(body.read_bytes)
