"""``RemoteS3``: the remote bucket store, reached through aiobotocore.

Owns the aiobotocore session and S3 client (their aiohttp connection pool) and the forwarder's
aiohttp session. Between ``__aenter__`` and ``aclose`` both are open; ``aclose`` releases both,
shielded from cancellation, and may be called again. The methods, one per ``Remote`` call, live
in the operation groups by concern: objects, multipart uploads, buckets and listings.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Self

from s3d.protocol import operations as ops
from s3d.protocol.errors import ServiceUnavailable
from s3d.protocol.model import RawResponse
from s3d.remote import sse_c
from s3d.remote.buckets import BucketOperations
from s3d.remote.calls import Calls
from s3d.remote.connect import (
    client_arguments,
    expect_continue_only_when_large,
    new_session,
)
from s3d.remote.credentials import (
    CONFIGURATION,
    Audit,
    Resolution,
    audit_refreshes,
    expiry_of,
    key_id_of,
    prompt_on_terminal,
    resolve,
)
from s3d.remote.errors import map_errors
from s3d.remote.forward import Forwarder
from s3d.remote.multipart import MultipartOperations
from s3d.remote.objects import ObjectOperations
from s3d.settings import EMBEDDED_CREDENTIALS, RemoteSettings

log = logging.getLogger("s3d.remote")

if TYPE_CHECKING:
    from s3d.journal.staging import StagedBody
    from s3d.ports import Remote


class RemoteS3(ObjectOperations, MultipartOperations, BucketOperations):
    """The ``Remote`` of the gateway, on an S3 endpoint described by ``RemoteSettings``."""

    def __init__(self, settings: RemoteSettings) -> None:
        self.settings = settings
        self._call = Calls()
        self._forwarder: Forwarder | None = None
        self._stack = AsyncExitStack()
        self.credential_source = "not resolved yet"
        """Where the remote credentials came from, for messages: never the credentials."""
        self.resolution = Resolution(None)

    async def __aenter__(self) -> Self:
        """Create the client: configuration files and botocore's data load in worker threads,
        credentials resolve from the settings or botocore's chain. Raises S3Error when the
        credential chain fails outright; cancellation releases what was opened."""
        try:
            with map_errors():
                await self._open()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def _open(self) -> None:
        session = await asyncio.to_thread(new_session, self.settings)
        await self._credentials(session)
        client = await self._stack.enter_async_context(
            session.create_client(**client_arguments(self.settings))
        )
        client.meta.events.register_last("before-call.s3", expect_continue_only_when_large)
        key_file = self.settings.sse_customer_key_file
        if key_file is not None:
            key = await asyncio.to_thread(sse_c.load_key, key_file)
            # First, on each operation's own event: botocore's handler there then turns the
            # key into its base64 and MD5 (a handler of the whole service would run after it).
            hook = sse_c.parameters_hook(key)
            for operation in sse_c.OPERATIONS:
                client.meta.events.register_first(f"before-parameter-build.s3.{operation}", hook)
        self._forwarder = await self._stack.enter_async_context(
            Forwarder(session, client, self.settings)
        )
        self._call.open(client)

    async def _credentials(self, session: Any) -> None:
        """Resolve the remote credentials (``s3d.remote.credentials``) and give them to the
        session, so the client and the forwarder sign with exactly these."""
        settings = self.settings
        resolution = await resolve(session, settings, prompt_on_terminal)
        self.resolution = resolution
        self.credential_source = resolution.source
        credentials = resolution.credentials
        if credentials is None:
            log.warning("no remote credentials: %s", resolution.tried_text())
            return
        if resolution.method == CONFIGURATION and settings.access_key_id != EMBEDDED_CREDENTIALS:
            log.warning(
                "the remote credentials are written in s3d's configuration: prefer the "
                "environment, a profile or a role, which keep secrets out of files"
            )
        session._credentials = credentials  # what get_credentials() answers from now on
        audit = Audit(settings.credentials_audit_file)
        audit.record("resolved", resolution.method, key_id_of(credentials), expiry_of(credentials))
        audit_refreshes(credentials, resolution.method, audit)

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and the forwarder and their connections. Idempotent; shielded
        from cancellation so the pool is always released."""
        self._call.close()
        self._forwarder = None
        await asyncio.shield(self._stack.aclose())

    async def presign_get(self, bucket: str, key: str, expires: int) -> str:
        """A presigned GET URL to the remote object (DRS access URLs pointing at the remote)."""
        return await self._call.presign_get(bucket, key, expires)

    async def forward(self, op: ops.Forwarded, body: StagedBody | None) -> RawResponse:
        """See ``Forwarder.forward``."""
        if self._forwarder is None:
            raise ServiceUnavailable("The remote S3 client is closed")
        return await self._forwarder.forward(op, body)


def _conforms(remote: RemoteS3) -> Remote:
    # mypy proves here that RemoteS3 fulfils the gateway's protocol.
    return remote
