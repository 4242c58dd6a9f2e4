"""The GA4GH DRS v1.4 API under ``/ga4gh/drs/v1``, on the S3 port.

Theory of operation. A request is a DRS request when its path starts with ``/ga4gh/drs/v1/``
and its Host does not name a bucket under a base domain (as for the admin endpoint): with the
DRS API on, a bucket named ``ga4gh`` is reachable in virtual-hosted style only.

Authentication, checked before anything else except ``service-info`` and ``OPTIONS`` (which
say how to authenticate): a SigV4 or SigV2 signature with a local key, exactly as on the S3
side; HTTP Basic with a local key id and its secret (DRS's ``BasicAuth``); a bearer token from
``drs.bearer_tokens_file`` (``BearerAuth``); or nothing, where anonymous reads are configured.

Access URLs are presigned GETs (SigV4, ``drs.url_expiry``) to this endpoint, as the client
reached it, signed with the caller's local key (or the first one), pinned to the ETag the
object had (``x-s3d-if-match``, inside the signature): while the URL is valid it serves those
bytes or 412, never what the key holds later. With ``drs.access_urls = remote``, they are
presigned by the remote client for the remote bucket (no pin: S3 has no such parameter).
Before handing one out, s3d asks for the object's current ETag (the journal's pending state,
else the remote itself) and refuses — marking the method unavailable — when the key holds other
bytes now.

Errors are ``{"msg", "status_code"}`` documents, never S3 XML.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from s3d.catalogue.index_format import AccessMethod, DrsRecord
from s3d.catalogue.service import Catalogue
from s3d.protocol.errors import S3Error
from s3d.protocol.model import bare_etag, quote_etag
from s3d.protocol.request import PINNED_ETAG
from s3d.protocol.sigv4_sign import presign_url
from s3d.server.admin import claims_path
from s3d.server.api_auth import BEARER, ApiAuthError, authenticate, challenge
from s3d.server.auth import Authenticator
from s3d.server.handler import REQUEST_INFO, request_headers

log = logging.getLogger("s3d.drs")

PREFIX = "/ga4gh/drs/v1/"
MAX_BULK = 1000
"""``maxBulkRequestLength``: ids one bulk request may name."""
BULK_CONCURRENCY = 16
"""Access URLs of one bulk request made at once."""
MAX_BODY = 1 << 20
"""Bytes of JSON a DRS request body may have."""

CurrentEtag = Callable[[str, str], Awaitable[str | None]]
"""(bucket, key) -> the object's ETag now, None when it does not exist. Raises S3Error."""
RemotePresigner = Callable[[str, str, int], Awaitable[str]]
"""(bucket, key, expires) -> a presigned GET URL to the remote."""


class DrsError(Exception):
    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.msg = status, msg


@dataclass(frozen=True, slots=True)
class DrsConfig:
    hostname: str
    url_expiry: int
    region: str
    keys: Mapping[str, str]
    """Local access key id -> secret."""
    bearer_tokens: frozenset[str]
    anonymous: bool
    base_domains: tuple[str, ...]
    service_id: str
    version: str


class DrsApi:
    def __init__(
        self,
        catalogue: Catalogue,
        authenticator: Authenticator,
        config: DrsConfig,
        current_etag: CurrentEtag,
        presign_remote: RemotePresigner | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._auth = authenticator
        self._config = config
        self._current_etag = current_etag
        self._presign_remote = presign_remote

    def claims(self, request: web.Request) -> bool:
        if not request.raw_path.startswith(PREFIX):
            return False  # the S3 requests: without building their headers
        raw_path = request.raw_path.partition("?")[0]
        return claims_path(PREFIX, raw_path, request_headers(request), self._config.base_domains)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            document, status = await self._answer(request)
        except DrsError as error:
            document, status = {"msg": error.msg, "status_code": error.status}, error.status
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = self._challenge()
        if document is None:
            return web.Response(status=status, headers=headers)
        body = json.dumps(document, indent=2) + "\n"
        return web.Response(
            status=status, text=body, content_type="application/json", headers=headers
        )

    def _challenge(self) -> str:
        return challenge(self._config.bearer_tokens)

    async def _answer(self, request: web.Request) -> tuple[Any, int]:
        info = request[REQUEST_INFO]
        raw_path = request.raw_path.partition("?")[0]
        parts = [unquote(p) for p in raw_path[len(PREFIX) :].split("/")]
        method = request.method
        if parts == ["service-info"] and method == "GET":
            info.action = "drs:GetServiceInfo"
            return self._service_info(), 200
        if not parts or parts[0] != "objects":
            raise DrsError(404, f"no DRS endpoint at {raw_path}")
        if method == "OPTIONS":
            info.action = "drs:OptionsObject"
            return await self._options(request, parts[1:])
        key_id = self._authenticate(request)
        info.principal = key_id or "anonymous"
        rest = parts[1:]
        match method, rest:
            case "POST", []:
                info.action = "drs:GetBulkObjects"
                body = await _json(request, "bulk_object_ids")
                return await self._bulk_objects(self._host(request), body), 200
            case "POST", ["access"]:
                info.action = "drs:GetBulkAccessURLs"
                body = await _json(request, "bulk_object_access_ids")
                return await self._bulk_access(request, key_id, body), 200
            case "GET", ["checksum", checksum]:
                info.action = "drs:GetObjectsByChecksum"
                return await self._by_checksum(request, checksum), 200
            case (("GET" | "POST"), [object_id]):
                info.action = "drs:GetObject"
                if method == "POST":
                    await _json(request, None)
                return await self._object(request, object_id), 200
            case (("GET" | "POST"), [object_id, "access", access_id]):
                info.action = "drs:GetAccessURL"
                if method == "POST":
                    await _json(request, None)
                return await self._access(request, key_id, object_id, access_id), 200
        if rest and len(rest) <= 3:
            raise DrsError(405, f"{method} is not allowed on {raw_path}")
        raise DrsError(404, f"no DRS endpoint at {raw_path}")

    # Authentication.

    def _authenticate(self, request: web.Request) -> str | None:
        """The caller's local key id, None for a bearer token or anonymous access."""
        config = self._config
        try:
            key_id = authenticate(request, self._auth, config.keys, config.bearer_tokens)
        except ApiAuthError as error:
            raise DrsError(error.status, error.msg) from None
        return None if key_id == BEARER else key_id

    # Endpoints.

    def _service_info(self) -> dict[str, Any]:
        config = self._config
        return {
            "id": config.service_id,
            "name": "s3d DRS",
            "type": {"group": "org.ga4gh", "artifact": "drs", "version": "1.4.0"},
            "description": "GA4GH DRS catalogue of the objects passing through s3d, a local S3 "
            "caching daemon",
            "organization": {"name": "s3d", "url": "https://github.com/s3d"},
            "version": config.version,
            "maxBulkRequestLength": MAX_BULK,
        }

    async def _object(self, request: web.Request, object_id: str) -> dict[str, Any]:
        record = await self._catalogue.get(object_id)
        if record is None:
            raise DrsError(404, f"no DRS object with id {object_id}")
        return self.drs_object(record, self._host(request))

    async def _by_checksum(self, request: web.Request, checksum: str) -> dict[str, Any]:
        kind, _, value = checksum.rpartition(":")
        records = await self._catalogue.by_checksum(value, kind or None)
        if not records:
            raise DrsError(404, f"no DRS object with checksum {checksum}")
        host = self._host(request)
        return {
            "summary": {"requested": 1, "resolved": len(records), "unresolved": 0},
            "resolved_drs_object": [self.drs_object(r, host) for r in records],
            "unresolved_drs_objects": [],
        }

    async def _bulk_objects(self, host: str, body: dict[str, Any]) -> dict[str, Any]:
        ids = _strings(body.get("bulk_object_ids"), "bulk_object_ids")
        resolved, missing = [], []
        for object_id in ids:
            record = await self._catalogue.get(object_id)
            if record is None:
                missing.append(object_id)
            else:
                resolved.append(self.drs_object(record, host))
        return _bulk("resolved_drs_object", len(ids), resolved, {404: missing})

    async def _access(
        self, request: web.Request, key_id: str | None, object_id: str, access_id: str
    ) -> dict[str, Any]:
        record = await self._catalogue.get(object_id)
        if record is None:
            raise DrsError(404, f"no DRS object with id {object_id}")
        method = next((m for m in record.access_methods if m.access_id == access_id), None)
        if method is None:
            raise DrsError(404, f"DRS object {object_id} has no access method {access_id}")
        return {"url": await self._url(request, key_id, record.id, method)}

    async def _bulk_access(
        self, request: web.Request, key_id: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        items = body.get("bulk_object_access_ids")
        if not isinstance(items, list):
            raise DrsError(400, "bulk_object_access_ids must be a list")
        wanted: list[tuple[str, str]] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("bulk_object_id"), str):
                raise DrsError(400, "each bulk_object_access_ids item needs a bulk_object_id")
            access_ids = _strings(item.get("bulk_access_ids"), "bulk_access_ids")
            wanted += [(item["bulk_object_id"], access_id) for access_id in access_ids]
            if len(wanted) > MAX_BULK:
                raise DrsError(413, f"more than {MAX_BULK} access ids in one request")
        requested = len(wanted)
        # Each URL costs a HEAD of its object: a few at a time, not a thousand in a row.
        slots = asyncio.Semaphore(BULK_CONCURRENCY)

        async def one(object_id: str, access_id: str) -> dict[str, Any] | DrsError:
            async with slots:
                try:
                    answer = await self._access(request, key_id, object_id, access_id)
                except DrsError as error:
                    return error
            return {"drs_object_id": object_id, "drs_access_id": access_id, "url": answer["url"]}

        answers = await asyncio.gather(*(one(o, a) for o, a in wanted))
        resolved = [a for a in answers if not isinstance(a, DrsError)]
        failed: dict[int, list[str]] = {}
        for (object_id, _), answer in zip(wanted, answers, strict=True):
            if isinstance(answer, DrsError):
                failed.setdefault(answer.status, []).append(object_id)
        return _bulk("resolved_drs_object_access_urls", requested, resolved, failed)

    async def _options(self, request: web.Request, rest: list[str]) -> tuple[Any, int]:
        if len(rest) == 1 and rest[0] not in ("", "access"):
            if await self._catalogue.get(rest[0]) is None:
                raise DrsError(404, f"no DRS object with id {rest[0]}")
            return self._authorizations(rest[0]), 200
        if not rest or rest == [""]:
            ids = _strings((await _json(request, "bulk_object_ids")).get("bulk_object_ids"), "ids")
            found: list[str] = []
            missing: list[str] = []
            for object_id in ids:
                known = await self._catalogue.get(object_id) is not None
                (found if known else missing).append(object_id)
            authorizations = [self._authorizations(i) for i in found]
            return _bulk("resolved_drs_object", len(ids), authorizations, {404: missing}), 200
        raise DrsError(405, "OPTIONS is allowed on /objects and /objects/{object_id}")

    def _authorizations(self, object_id: str) -> dict[str, Any]:
        types = ["BasicAuth"]
        if self._config.bearer_tokens:
            types.append("BearerAuth")
        if self._config.anonymous:
            types.insert(0, "None")
        return {"drs_object_id": object_id, "supported_types": types}

    # Documents.

    def drs_object(self, record: DrsRecord, host: str) -> dict[str, Any]:
        """A ``DrsObject``: only methods that still reach these bytes are listed."""
        created = record.created_time or record.updated_time or _EPOCH
        document: dict[str, Any] = {
            "id": record.id,
            "self_uri": f"drs://{host}/{record.id}",
            "size": record.size,
            "created_time": created,
            "updated_time": record.updated_time or created,
            "checksums": [{"checksum": c, "type": t} for t, c in record.checksums],
        }
        methods = [_method(m) for m in record.access_methods if m.available]
        if methods:
            document["access_methods"] = methods
        for name in ("name", "version", "mime_type", "description"):
            value = getattr(record, name)
            if value:
                document[name] = value
        if record.aliases:
            document["aliases"] = list(record.aliases)
        return document

    def _host(self, request: web.Request) -> str:
        return self._config.hostname or request.host or "localhost"

    async def _url(
        self, request: web.Request, key_id: str | None, object_id: str, method: AccessMethod
    ) -> str:
        if not method.available:
            raise DrsError(404, f"access method {method.access_id} no longer holds these bytes")
        try:
            etag = await self._current_etag(method.bucket, method.key)
        except S3Error as error:
            raise DrsError(
                503 if error.status >= 500 else error.status,
                f"cannot check {method.url}: {error.code}",
            ) from None
        if etag is None or (method.etag and bare_etag(etag) != method.etag):
            await self._catalogue.unreachable(object_id, method.access_id)
            raise DrsError(404, f"{method.url} no longer holds the bytes of {object_id}")
        expiry = self._config.url_expiry
        if self._presign_remote is not None:
            return await self._presign_remote(method.bucket, method.key, expiry)
        keys = self._config.keys
        key_id = key_id if key_id in keys else next(iter(keys), None)
        if key_id is None:
            raise DrsError(500, "no local access key to sign access URLs with")
        url = f"{request.scheme}://{request.host}/{method.bucket}/{quote(method.key, safe='/~')}"
        if method.etag:
            url += f"?{PINNED_ETAG}={quote(quote_etag(method.etag), safe='')}"
        return presign_url(
            "GET", url, key_id, keys[key_id], self._config.region, datetime.now(UTC), expiry
        )


_EPOCH = "1970-01-01T00:00:00Z"


def _method(method: AccessMethod) -> dict[str, Any]:
    """The method as DRS 1.4 has it: ``available`` and ``etag`` are the catalogue's own."""
    document = method.to_json()
    document.pop("available", None)
    document.pop("etag", None)
    return document


def _bulk(
    name: str, requested: int, resolved: list[dict[str, Any]], failed: Mapping[int, list[str]]
) -> dict[str, Any]:
    unresolved = [{"error_code": code, "object_ids": ids} for code, ids in failed.items() if ids]
    return {
        "summary": {
            "requested": requested,
            "resolved": len(resolved),
            "unresolved": sum(len(ids) for ids in failed.values()),
        },
        "unresolved_drs_objects": unresolved,
        name: resolved,
    }


def _strings(value: object, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DrsError(400, f"{name} must be a list of strings")
    if len(value) > MAX_BULK:
        raise DrsError(413, f"{name} names {len(value)} ids; at most {MAX_BULK} at once")
    return value


async def _json(request: web.Request, required: str | None) -> dict[str, Any]:
    """The request's JSON object (an empty one when there is no body and nothing is
    required). Raises DrsError 400 naming what is wrong."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise DrsError(413, f"the request body is over {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise DrsError(413, f"the request body is over {MAX_BODY} bytes")
    if not raw.strip():
        if required is not None:
            raise DrsError(400, f"a JSON body with {required} is required")
        return {}
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise DrsError(400, f"the request body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise DrsError(400, "the request body must be a JSON object")
    if required is not None and required not in document:
        raise DrsError(400, f"the request body has no {required}")
    return document
