"""POST Object: a browser form upload (``multipart/form-data`` to a bucket, as boto3's
``generate_presigned_post`` prepares), through the same gateway and journal as a PutObject.

The form's fields are read (at most ``MAX_FIELDS`` bytes of them, as S3 limits them), then
the ``file`` part is staged on local disk like any body; fields after it are ignored, as S3
ignores them. The policy is checked (``s3d.protocol.post_policy``) before anything is stored.
``key`` may hold ``${filename}``. The answer, as S3 gives it: a ``303`` to
``success_action_redirect`` (with ``bucket``, ``key`` and ``etag`` in its query), else
``success_action_status`` ``200`` (no body) or ``201`` (a ``PostResponse`` document), else
``204``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from aiohttp import BodyPartReader, web

from s3d.gateway import Gateway
from s3d.protocol import operations as ops
from s3d.protocol.errors import EntityTooLarge, IncompleteBody, InvalidArgument, RequestTimeout
from s3d.protocol.integrity import MAX_OBJECT_PUT
from s3d.protocol.model import header
from s3d.protocol.post_policy import PostForm, check_form
from s3d.protocol.request import build
from s3d.protocol.routing import Target
from s3d.server.auth import Authenticator
from s3d.staging import StagedBody

MAX_FIELDS = 20 * 1024
"""Bytes of form fields (names and values) accepted before the file."""
_HEADER_FIELDS = frozenset(
    {"cache-control", "content-type", "content-disposition", "content-encoding", "expires"}
)


async def post_object(
    request: web.Request, bucket: str, auth: Authenticator, gateway: Gateway, idle: float
) -> tuple[str, web.StreamResponse]:
    """Store the form's file under its key; (the access key id that signed it, the answer).
    Raises the errors of ``check_form``, InvalidArgument (a form without a key, policy or
    file), EntityTooLarge, IncompleteBody, RequestTimeout; the staged file is removed on any
    error or cancellation."""
    reader = await request.multipart()
    fields, file = await _fields(reader)
    if file is None or "policy" not in fields or "key" not in fields:
        raise InvalidArgument("A form upload needs key, policy and file fields.")
    body = await _stage(file, gateway, idle)
    try:
        principal = check_form(PostForm(fields, bucket, body.size), auth.secret, _now())
        key = fields["key"].replace("${filename}", file.filename or "")
        content_type = fields.get("content-type") or file.headers.get("Content-Type") or ""
        headers = [(n, v) for n, v in fields.items() if n in _HEADER_FIELDS or _meta(n)]
        headers = [*(h for h in headers if h[0] != "content-type"), ("content-type", content_type)]
        op = build("PutObject", Target(bucket, key), (), tuple(headers), method="PUT")
        assert isinstance(op, ops.PutObject)
        await gateway.admit(body.size)
        result = await gateway.execute(op, body)
    finally:
        await gateway.staging.discard(body)
    etag = header(getattr(result, "headers", ()), "etag") or body.etag
    return principal, _answer(fields, bucket, key, etag, request)


def _meta(name: str) -> bool:
    return name.startswith("x-amz-meta-")


def _now() -> datetime:
    return datetime.now(UTC)


async def _fields(reader: object) -> tuple[dict[str, str], BodyPartReader | None]:
    fields: dict[str, str] = {}
    room = MAX_FIELDS
    while (part := await reader.next()) is not None:  # type: ignore[attr-defined]
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.name.lower() == "file":
            return fields, part
        value = (await part.read(decode=False))[: room + 1].decode("utf-8", "replace")
        room -= len(part.name) + len(value)
        if room < 0:
            raise InvalidArgument(f"The form's fields exceed {MAX_FIELDS} bytes.")
        fields[part.name.lower()] = value
    return fields, None


async def _stage(file: BodyPartReader, gateway: Gateway, idle: float) -> StagedBody:
    async with gateway.staging.writer() as writer:
        try:
            while True:
                async with asyncio.timeout(idle):
                    chunk = await file.read_chunk(1 << 20)
                if not chunk:
                    break
                await writer.write(chunk)
                if writer.size > MAX_OBJECT_PUT:
                    raise EntityTooLarge(MaxSizeAllowed=str(MAX_OBJECT_PUT))
        except TimeoutError:
            raise RequestTimeout() from None
        except ConnectionError as exc:
            raise IncompleteBody() from exc
        return await writer.finish()


def _answer(
    fields: dict[str, str], bucket: str, key: str, etag: str, request: web.Request
) -> web.StreamResponse:
    headers = {"ETag": etag}
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        query = urlencode({"bucket": bucket, "key": key, "etag": etag})
        joiner = "&" if "?" in redirect else "?"
        return web.Response(status=303, headers={**headers, "Location": redirect + joiner + query})
    status = fields.get("success_action_status")
    if status == "200":
        return web.Response(status=200, headers=headers)
    if status != "201":
        return web.Response(status=204, headers=headers)
    location = f"{request.scheme}://{request.host}/{bucket}/{key}"
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
        f"<Location>{escape(location)}</Location><Bucket>{escape(bucket)}</Bucket>"
        f"<Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag></PostResponse>"
    )
    return web.Response(
        status=201, body=document.encode(), headers=headers, content_type="application/xml"
    )
