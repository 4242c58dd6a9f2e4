"""``/_s3d/snapshots/``: list a snapshot set, download its latest or a named snapshot.

Theory of operation. ``GET /_s3d/snapshots/<bucket>/<prefix>/`` (a trailing ``/``, or the bucket
alone) lists the set newest first as JSON; a set named in ``snapshots.sets`` stands in for its
bucket and prefix (``/_s3d/snapshots/<name>/latest``). ``GET
…/<prefix>/latest[?variant=reduced]`` streams the newest snapshot (of that variant); ``GET
…/<prefix>/<name>`` the one named. A download is served through the gateway (a pending snapshot
from the journal, else the cache, else the remote) pinned to the ETag the listing gave, and
streamed — not redirected to a presigned URL: the caller's credentials are s3d's local ones
(``curl -u KEY:SECRET``), the remote's never leave the node, and an OpenPGP snapshot must pass
through gpg here anyway. Keys ending in a ``snapshots.decrypt_suffixes`` suffix are decrypted on
the way when a passphrase is configured; a failed integrity check aborts the response (the
connection is cut before the last chunk), so ``curl … | mysql app`` fails rather than loading a
broken dump.

Authentication as the DRS API's (``s3d/server/api_auth.py``). Each download is logged: who
(key id, ``bearer`` or ``anonymous``), which snapshot (bucket, key, ETag), and how it ended.
Errors are ``{"msg", "status_code"}`` documents.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from s3d.protocol import operations as ops
from s3d.protocol.errors import S3Error
from s3d.server.admin import claims_path
from s3d.server.api_auth import ApiAuthError, authenticate, challenge
from s3d.server.auth import Authenticator
from s3d.server.handler import REQUEST_INFO, request_headers
from s3d.server.respond import respond
from s3d.snapshots.gpg import DecryptionFailed, Gpg, decrypt
from s3d.snapshots.naming import Snapshot, choose
from s3d.snapshots.sets import SnapshotSets, chunks

log = logging.getLogger("s3d.snapshots")

PREFIX = "/_s3d/snapshots/"


@dataclass(frozen=True, slots=True)
class SnapshotAccess:
    keys: Mapping[str, str]
    bearer_tokens: frozenset[str]
    base_domains: tuple[str, ...]
    decrypt_suffixes: tuple[str, ...]
    gpg: Gpg | None
    sets: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Named sets: name → (bucket, prefix)."""


class SnapshotApi:
    def __init__(
        self, sets: SnapshotSets, authenticator: Authenticator, access: SnapshotAccess
    ) -> None:
        self._sets, self._auth, self._access = sets, authenticator, access

    def claims(self, request: web.Request) -> bool:
        if not request.raw_path.startswith(PREFIX):
            return False
        raw_path = request.raw_path.partition("?")[0]
        return claims_path(PREFIX, raw_path, request_headers(request), self._access.base_domains)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        info = request[REQUEST_INFO]
        try:
            who = authenticate(request, self._auth, self._access.keys, self._access.bearer_tokens)
            info.principal = who or "anonymous"
            if request.method not in ("GET", "HEAD"):
                raise ApiAuthError(405, f"{request.method} is not allowed here")
            bucket, prefix, name = _parse(request.raw_path.partition("?")[0])
            if bucket in self._access.sets:  # a named set: its bucket, under its prefix
                bucket, set_prefix = self._access.sets[bucket]
                prefix = set_prefix + prefix
            found = await self._sets.list(bucket, prefix)
            if name is None:
                info.action = "s3d:ListSnapshots"
                return _json({"bucket": bucket, "prefix": prefix, "snapshots": _listed(found)})
            info.action = "s3d:GetSnapshot"
            chosen = choose(found, name, request.query.get("variant"))
            if chosen is None:
                raise ApiAuthError(404, f"no snapshot {name!r} in s3://{bucket}/{prefix}")
            return await self._download(request, bucket, chosen, info.principal)
        except ApiAuthError as error:
            return _error(error.status, error.msg, self._access.bearer_tokens)
        except S3Error as error:
            return _error(error.status, f"{error.error_code}: {error.message}", frozenset())

    async def _download(
        self, request: web.Request, bucket: str, snapshot: Snapshot, who: str
    ) -> web.StreamResponse:
        where = f"s3://{bucket}/{snapshot.key} (ETag {snapshot.etag})"
        gpg = self._access.gpg
        encrypted = snapshot.key.endswith(self._access.decrypt_suffixes)
        log.info("snapshot download by %s: %s%s", who, where, ", decrypted" if encrypted else "")
        result = await self._sets.open(bucket, snapshot)
        if not encrypted or gpg is None or request.method == "HEAD":
            op = ops.GetObject(bucket, snapshot.key, head=request.method == "HEAD")
            return await respond(request, op, result)
        response = web.StreamResponse(
            headers={"Content-Type": "application/octet-stream", "Cache-Control": "no-store"}
        )
        response.enable_chunked_encoding()
        try:
            async for data in decrypt(gpg, chunks(result.body)):
                if not response.prepared:
                    await response.prepare(request)
                await response.write(data)
        except DecryptionFailed as failure:
            log.error("snapshot download by %s: %s failed to decrypt: %s", who, where, failure)
            if not response.prepared:
                return _error(502, "the snapshot does not decrypt", frozenset())
            if request.transport is not None:
                request.transport.abort()  # no final chunk: the reader sees a broken transfer
            return response
        if not response.prepared:
            await response.prepare(request)
        await response.write_eof()
        log.info("snapshot download by %s: %s sent", who, where)
        return response


def _parse(raw_path: str) -> tuple[str, str, str | None]:
    """(bucket, prefix, name or None for a listing). Raises ApiAuthError 404."""
    rest = raw_path[len(PREFIX) :]
    bucket, _, tail = rest.partition("/")
    if not bucket:
        raise ApiAuthError(404, "name a bucket: /_s3d/snapshots/<bucket>/<prefix>/")
    if tail == "" or tail.endswith("/"):
        return unquote(bucket), unquote(tail), None
    prefix, _, name = tail.rpartition("/")
    return unquote(bucket), unquote(prefix + "/" if prefix else ""), unquote(name)


def _listed(found: list[Snapshot]) -> list[dict[str, Any]]:
    return [
        {
            "key": s.key,
            "name": s.name,
            "time": s.time.isoformat().replace("+00:00", "Z"),
            "time_source": s.time_source,
            "size": s.size,
            "etag": s.etag,
            "variant": s.variant,
        }
        for s in found
    ]


def _json(document: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(document, indent=2) + "\n",
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _error(status: int, msg: str, bearer_tokens: frozenset[str]) -> web.Response:
    response = _json({"msg": msg, "status_code": status}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = challenge(bearer_tokens)
    return response
