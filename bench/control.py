"""What the write-back benchmark asks of the servers besides S3: s3d's admin endpoint (its
journal's status; a flush that answers once the journal is empty) and the relay's control port
(hold the remote, release it, count connections).

Admin requests are signed with s3d's own signer (``s3d.protocol.sigv4_sign``, as ``s3d
status`` signs them) with the benchmark's access key. Errors raise ``ControlError``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
from yarl import URL

from bench.services import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from s3d.protocol.sigv4 import EMPTY_SHA256
from s3d.protocol.sigv4_sign import sign_headers

FLUSH_WAIT = 3600
"""The longest one flush waits for the journal to empty, seconds (s3d's own cap)."""
UNTIMED = aiohttp.ClientTimeout(total=None, sock_connect=30)
"""A flush answers when the journal is empty, however long the upload takes."""


class ControlError(RuntimeError):
    """s3d's admin endpoint or the relay's control port refused or failed."""


class S3dAdmin:
    def __init__(self, client: aiohttp.ClientSession, endpoint: str) -> None:
        self._client = client
        self._endpoint = endpoint.rstrip("/")

    async def journal(self) -> dict[str, Any]:
        """The journal section of ``GET /_s3d/status`` (queue, uploading, pending bytes…)."""
        document = await self._call("GET", "status")
        journal: dict[str, Any] = document.get("journal", {})
        return journal

    async def flush(self, wait: float = FLUSH_WAIT) -> dict[str, Any]:
        """``POST /_s3d/flush?wait=``: answers once nothing waits for upload (``idle``) or
        after ``wait`` seconds; raises ``ControlError`` when it was not idle by then."""
        document = await self._call("POST", f"flush?wait={wait:g}")
        if not document.get("idle"):
            raise ControlError(f"s3d's journal not empty after {wait:g}s: {document}")
        return document

    async def _call(self, method: str, command: str) -> dict[str, Any]:
        url = f"{self._endpoint}/_s3d/{command}"
        headers = sign_headers(
            method,
            url,
            {},
            EMPTY_SHA256,
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            REGION,
            datetime.now(UTC),
        )
        target = URL(url, encoded=True)  # sent exactly as signed
        async with self._client.request(method, target, headers=headers, timeout=UNTIMED) as answer:
            if answer.status != 200:
                raise ControlError(
                    f"{method} /_s3d/{command}: {answer.status} {await answer.text()}"
                )
            document: dict[str, Any] = await answer.json()
        return document


class RelayControl:
    def __init__(self, client: aiohttp.ClientSession, control: str) -> None:
        self._client = client
        self._control = control.rstrip("/")

    async def hold(self) -> None:
        await self._call("POST", "hold")

    async def release(self) -> None:
        await self._call("POST", "release")

    async def stats(self) -> dict[str, Any]:
        return await self._call("GET", "stats")

    async def _call(self, method: str, path: str) -> dict[str, Any]:
        async with self._client.request(method, f"{self._control}/{path}") as answer:
            if answer.status != 200:
                raise ControlError(f"relay {method} /{path}: {answer.status}")
            document: dict[str, Any] = await answer.json()
        return document
