"""``NativeClient``: signed requests to one remote endpoint without botocore on the way.

The data path's transport (``s3d/remote/datapath.py``): each request is addressed as the
aiobotocore client addresses the bucket (``Addresses``), signed with s3d's own SigV4 signer
(``s3d/protocol/sigv4_sign.py``) with the session's credentials (frozen for each attempt, so
temporary credentials refresh as botocore refreshes them), and sent over an aiohttp session
of its own, kept for the endpoint. Attempts follow ``RetryPolicy``; an error answer becomes the
``S3Error`` botocore's would have (``from_document``), a transport failure
``ServiceUnavailable``.

Holds no state of its own but the bucket addresses; the aiohttp session (``session_for``) is
its owner's (``RemoteS3``), which closes it after the ``DataPath`` has forgotten this client.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from yarl import URL

from s3d.protocol.errors import S3Error, ServiceUnavailable
from s3d.protocol.sigv4_sign import sign_headers
from s3d.remote.addresses import Addresses
from s3d.remote.connect import EXPECT_CONTINUE_FROM as EXPECT_FROM
from s3d.remote.connect import http_session
from s3d.remote.errors import error_answer, map_errors
from s3d.remote.retrying import RetryPolicy, retryable_answer
from s3d.settings import RemoteSettings

_RETRIED = (aiohttp.ClientConnectionError, asyncio.TimeoutError, ConnectionError)

Body = Callable[[], Awaitable[object]]
"""Makes an attempt's request body (aiohttp ``data``): called again for each attempt."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A request to send: ``url`` as sent (from ``Addresses``), ``headers`` by lower-case
    name, the payload's hex SHA-256 or UNSIGNED-PAYLOAD, the error of a bare 404."""

    method: str
    url: str
    headers: dict[str, str]
    payload_hash: str
    missing: type[S3Error]
    body: Body | None = None


class _Answered(Exception):
    """An attempt answered with an error (retried or raised), as opposed to a local failure."""

    def __init__(self, error: S3Error) -> None:
        super().__init__(error.code)
        self.error = error


class Redirected(Exception):
    """The remote sent the bucket elsewhere (another region or endpoint): botocore, which
    follows such redirects, must take the call."""


async def session_for(settings: RemoteSettings) -> aiohttp.ClientSession:
    """The aiohttp session of a ``NativeClient``: see ``http_session``."""
    # No Content-Type s3d did not choose; no compressed answer s3d would not store.
    skip = ("Content-Type", "Accept-Encoding")
    return await http_session(settings, skip, headers={"User-Agent": "s3d"})


class NativeClient:
    """Requests to the endpoint of one aiobotocore client, with its session's credentials."""

    def __init__(
        self, session: Any, client: Any, settings: RemoteSettings, http: aiohttp.ClientSession
    ) -> None:
        """``http``: a session from ``session_for``, closed by its owner."""
        self._session = session
        self.addresses = Addresses(client)
        self._region: str = client.meta.region_name
        self._settings = settings
        self._policy = RetryPolicy(settings.max_attempts, settings.retry_window)
        self._http = http

    async def request(self, out: Outgoing) -> aiohttp.ClientResponse:
        """Send ``out`` until answered 2xx, retried as ``RetryPolicy`` allows. The answer's
        body is the caller's to read and close. Raises S3Error, Redirected; cancellation
        closes the connection of the attempt in flight."""
        started = time.monotonic()
        attempt = 1
        while True:
            try:
                return await self._attempt(out)
            except _Answered as answered:
                error = answered.error
                retry = retryable_answer(error.status, error.error_code)
                if not retry or not self._policy.may_retry(attempt, started, time.monotonic()):
                    raise error from None
            except _RETRIED:
                if not self._policy.may_retry(attempt, started, time.monotonic()):
                    with map_errors():
                        raise
            await asyncio.sleep(RetryPolicy.backoff(attempt, random.random()))
            attempt += 1

    async def _attempt(self, out: Outgoing) -> aiohttp.ClientResponse:
        http = self._http
        headers = out.headers
        signed = {**headers, **await self._signature(out)}
        data = await out.body() if out.body is not None else None
        expect = data is not None and int(headers.get("content-length", 0)) >= EXPECT_FROM
        response = await http.request(
            out.method, URL(out.url, encoded=True), headers=signed, data=data,
            allow_redirects=False, expect100=expect,
        )  # fmt: skip
        if response.status < 300:
            return response
        region = response.headers.get("x-amz-bucket-region", self._region)
        if response.status in (301, 307) or (response.status == 400 and region != self._region):
            response.close()
            raise Redirected()
        raise _Answered(await error_answer(response, out.missing))

    async def _signature(self, out: Outgoing) -> dict[str, str]:
        with map_errors():
            credentials = await self._session.get_credentials()
            if credentials is None:
                raise ServiceUnavailable("s3d has no usable credentials for the remote S3 endpoint")
            frozen = await credentials.get_frozen_credentials()
        signing = dict(out.headers)
        if frozen.token:
            signing["x-amz-security-token"] = frozen.token
        now = datetime.now(UTC)
        added = sign_headers(
            out.method, out.url, signing, out.payload_hash, frozen.access_key, frozen.secret_key,
            self._region, now,
        )  # fmt: skip
        if frozen.token:
            added["x-amz-security-token"] = frozen.token
        return added
