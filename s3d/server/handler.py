"""One S3 request, from the wire to the gateway and back.

Order, as S3 does it: locate the bucket and key, authenticate, name the operation, validate
its arguments, then read the body (staged and verified) and only then act. An operation whose
body is an XML document is built after the document is verified.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from s3d.anonymous import UnsignedAccess
from s3d.decisions.authorise import Authorisation
from s3d.gateway import Gateway
from s3d.protocol import operations as ops
from s3d.protocol.errors import S3Error
from s3d.protocol.integrity import MAX_OBJECT_PUT, plan_body, require_digest
from s3d.protocol.model import Headers, header
from s3d.protocol.request import DATA_BODY_ACTIONS, XML_BODY_ACTIONS, build
from s3d.protocol.routing import Target, check_served, locate, parse_query, route
from s3d.protocol.sigv4 import SignedRequest
from s3d.server.auth import Authenticator, Principal
from s3d.server.body import MAX_DOCUMENT, read_document, stage_body
from s3d.server.post_object import post_object
from s3d.server.respond import respond
from s3d.server.unsigned import forward_unsigned
from s3d.staging import StagedBody

PREFLIGHT = "PreflightRequest"


@dataclass(slots=True)
class RequestInfo:
    """What the access log says of a request; filled in as the request is understood."""

    request_id: str
    principal: str = "-"
    action: str = "-"
    bucket: str | None = None
    key: str | None = None
    client_closed: bool = False
    """The client closed its connection before the answer was sent."""


REQUEST_INFO = web.RequestKey("s3d", RequestInfo)


def request_headers(request: web.Request) -> Headers:
    return tuple((name.lower(), value) for name, value in request.headers.items())


POST_OBJECT = "PostObject"


def _form_upload(method: str, target: Target, headers: Headers) -> bool:
    """A POST Object: an HTML form (``multipart/form-data``) posted to a bucket."""
    content_type = (header(headers, "content-type") or "").lower()
    return (
        method == "POST"
        and target.bucket is not None
        and target.key is None
        and content_type.startswith("multipart/form-data")
    )


def _has_body(headers: Headers) -> bool:
    length = header(headers, "content-length")
    return (
        (length is not None and length.strip() not in ("", "0"))
        or header(headers, "x-amz-decoded-content-length") is not None
        or header(headers, "transfer-encoding") is not None
    )


class S3Handler:
    def __init__(
        self,
        gateway: Gateway,
        authenticator: Authenticator,
        base_domains: tuple[str, ...],
        body_timeout: float,
        authorisation: Authorisation | None = None,
        unsigned: UnsignedAccess | None = None,
    ) -> None:
        self._gateway = gateway
        self._unsigned = unsigned
        self._authorisation = authorisation
        self._auth = authenticator
        self._base_domains = base_domains
        self._body_timeout = body_timeout

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        info = request[REQUEST_INFO]
        raw_path, _, raw_query = request.raw_path.partition("?")
        headers = request_headers(request)
        target = locate(raw_path, headers, self._base_domains)
        info.bucket, info.key = target.bucket, target.key
        query = parse_query(raw_query)
        if request.method == "OPTIONS" and target.bucket is not None:
            # CORS preflight carries no credentials; the remote answers from its CORS rules.
            info.action = PREFLIGHT
            op = build(PREFLIGHT, target, query, headers, method="OPTIONS")
            return await respond(request, op, await self._gateway.execute(op))
        if _form_upload(request.method, target, headers) and target.bucket is not None:
            # A browser form's POST policy is an authentication scheme of its own: the form's
            # fields carry the signature, not the request's headers.
            info.action = POST_OBJECT
            principal_name, answer = await post_object(
                request, target.bucket, self._auth, self._gateway, self._body_timeout
            )
            info.principal = principal_name
            return answer
        principal = self._auth.authenticate(
            SignedRequest(request.method, raw_path, raw_query, headers), target, forwarding=True
        )
        info.principal = principal.name
        action = route(request.method, target, query, headers)
        info.action = action
        check_served(action)
        if self._authorisation is not None:  # before any body is read
            await self._authorisation.check(
                principal.name, action, target.bucket, target.key, headers, request.remote
            )
        require_digest(action, headers)
        if principal.unsigned:
            parts = (action, target, query, headers)
            return await forward_unsigned(
                request, self._unsigned, self._gateway.staging, self._body_timeout, parts,
                _has_body(headers),
            )  # fmt: skip
        if action in XML_BODY_ACTIONS:
            return await self._with_document(request, principal, action, target, query, headers)
        op = build(action, target, query, headers, method=request.method)
        body = None
        if action in DATA_BODY_ACTIONS or (isinstance(op, ops.Forwarded) and _has_body(headers)):
            limit = MAX_OBJECT_PUT if action in DATA_BODY_ACTIONS else MAX_DOCUMENT
            body = await self._stage(request, principal, headers, limit)
        return await respond(request, op, await self._gateway.execute(op, body))

    async def expect(self, request: web.Request) -> None:
        """``Expect: 100-continue``: invite the body only from a request that authenticates,
        as S3 does, so a refused upload is not sent for nothing. A refused request gets no
        100 Continue; the handler then answers its error and closes the connection."""
        if request.headers.get("Expect", "").lower() != "100-continue":
            return
        raw_path, _, raw_query = request.raw_path.partition("?")
        headers = request_headers(request)
        try:
            target = locate(raw_path, headers, self._base_domains)
            self._auth.authenticate(
                SignedRequest(request.method, raw_path, raw_query, headers),
                target,
                forwarding=True,
            )
        except S3Error:
            return
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0

    async def _stage(
        self, request: web.Request, principal: Principal, headers: Headers, limit: int
    ) -> StagedBody:
        plan = plan_body(headers, principal.payload_hash, max_size=limit)
        if limit == MAX_OBJECT_PUT:
            await self._gateway.admit(plan.length)  # before reading: a refused body is never read
        return await stage_body(
            request, plan, principal.signing, self._gateway.staging, self._body_timeout
        )

    async def _with_document(
        self,
        request: web.Request,
        principal: Principal,
        action: str,
        target: Target,
        query: tuple[tuple[str, str], ...],
        headers: Headers,
    ) -> web.StreamResponse:
        body = None
        if _has_body(headers):
            body = await self._stage(request, principal, headers, MAX_DOCUMENT)
        try:
            document = await read_document(body)
        finally:
            if body is not None:
                await self._gateway.staging.discard(body)
        op = build(action, target, query, headers, document, request.method)
        return await respond(request, op, await self._gateway.execute(op))
