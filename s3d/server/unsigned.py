"""An unsigned S3 request, forwarded unsigned (``server.anonymous = "remote"``).

The request was located, routed and authorised like any other; here its body (if any) is
staged and checked (``Content-MD5``, the checksums of an aws-chunked body), its typed form
built (what it writes, for the cache and the bucket facts) and the request sent to the remote
as it came, without a signature: the remote's ACLs and policies answer it
(``s3d/anonymous.py`` says how it meets the cache and the journal).
"""

from __future__ import annotations

from aiohttp import web

from s3d.anonymous import UnsignedAccess
from s3d.protocol import operations as ops
from s3d.protocol.errors import AccessDenied
from s3d.protocol.integrity import MAX_OBJECT_PUT, plan_body
from s3d.protocol.model import Headers
from s3d.protocol.request import DATA_BODY_ACTIONS, XML_BODY_ACTIONS, build
from s3d.protocol.routing import Target
from s3d.server.body import MAX_DOCUMENT, read_document, stage_body
from s3d.server.respond import respond
from s3d.staging import StagedBody, StagingArea


async def forward_unsigned(
    request: web.Request,
    access: UnsignedAccess | None,
    staging: StagingArea,
    body_timeout: float,
    request_parts: tuple[str, Target, tuple[tuple[str, str], ...], Headers],
    has_body: bool,
) -> web.StreamResponse:
    """Answer an unsigned request with the remote's answer to it. Raises S3Error (the
    remote's, or s3d's for a body that fails its checks); the staged body is discarded."""
    if access is None:  # never answered with s3d's own credentials
        raise AccessDenied()
    action, target, query, headers = request_parts
    body: StagedBody | None = None
    if has_body:
        limit = MAX_OBJECT_PUT if action in DATA_BODY_ACTIONS else MAX_DOCUMENT
        plan = plan_body(headers, None, max_size=limit)
        body = await stage_body(request, plan, None, staging, body_timeout)
    try:
        document = await read_document(body) if action in XML_BODY_ACTIONS else None
        op = build(action, target, query, headers, document, request.method)
        forwarded = ops.Forwarded(action, request.method, target.bucket, target.key, query, headers)
        return await respond(request, forwarded, await access.execute(op, forwarded, body))
    finally:
        if body is not None:
            await staging.discard(body)
