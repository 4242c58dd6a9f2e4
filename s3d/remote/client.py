"""``RemoteS3``: the remote bucket store, reached through aiobotocore.

Owns the aiobotocore session and S3 client (their aiohttp connection pool) and the forwarder's
aiohttp session. Between ``__aenter__`` and ``aclose`` both are open; ``aclose`` releases both,
shielded from cancellation, and may be called again. The methods, one per ``Remote`` call, are
those of the operation groups it composes, by concern: objects, multipart uploads, buckets
and listings, each built with the one ``Calls`` they share.
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
from s3d.remote.calls import CallObserver, Calls
from s3d.remote.connect import (
    client_arguments,
    expect_continue_only_when_large,
    new_session,
    service_config,
)
from s3d.remote.credentials import (
    CONFIGURATION,
    EMBEDDED_REMOTE,
    Audit,
    Resolution,
    assume_role,
    audit_refreshes,
    bucket_remote,
    expiry_of,
    key_id_of,
    prompt_on_terminal,
    resolve,
)
from s3d.remote.datapath import DataPath
from s3d.remote.deadlines import RetryWindow
from s3d.remote.endpoint import Endpoint
from s3d.remote.errors import map_errors
from s3d.remote.forward import Forwarder
from s3d.remote.multipart import MultipartOperations
from s3d.remote.native import NativeClient, session_for
from s3d.remote.objects import ObjectOperations
from s3d.remote.params import HeaderParams
from s3d.remote.sidecar import SIDECAR, Sidecar, credentials_for
from s3d.settings import BucketRemote, RemoteSettings

log = logging.getLogger("s3d.remote")

if TYPE_CHECKING:
    from s3d.ports import Remote
    from s3d.staging import StagedBody


class RemoteS3:
    """The ``Remote`` of the gateway, on an S3 endpoint described by ``RemoteSettings``."""

    def __init__(self, settings: RemoteSettings, observe: CallObserver | None = None) -> None:
        """``observe``: told of every remote call (``Calls``), for metrics."""
        self.settings = settings
        self._call = Calls(observe)
        objects = ObjectOperations(self._call)
        self.get_object, self.put_object = objects.get_object, objects.put_object
        self.copy_object, self.delete_object = objects.copy_object, objects.delete_object
        self.get_object_tagging = objects.get_object_tagging
        self.put_object_tagging = objects.put_object_tagging
        self.delete_object_tagging = objects.delete_object_tagging
        multipart = MultipartOperations(self._call)
        self.create_multipart_upload = multipart.create_multipart_upload
        self.upload_part, self.upload_part_copy = multipart.upload_part, multipart.upload_part_copy
        self.complete_multipart_upload = multipart.complete_multipart_upload
        self.abort_multipart_upload = multipart.abort_multipart_upload
        self.list_parts = multipart.list_parts
        self._data: DataPath | None = None
        if settings.data_path == "native":
            self._data = DataPath(self._call, objects, multipart)
            self.get_object, self.put_object = self._data.get_object, self._data.put_object
            self.upload_part = self._data.upload_part
        self.list_multipart_uploads = multipart.list_multipart_uploads
        buckets = BucketOperations(self._call, settings)
        self.list_buckets, self.create_bucket = buckets.list_buckets, buckets.create_bucket
        self.head_bucket, self.delete_bucket = buckets.head_bucket, buckets.delete_bucket
        self.get_bucket_location = buckets.get_bucket_location
        self.list_objects, self.delete_objects = buckets.list_objects, buckets.delete_objects
        self._forwarder: Forwarder | None = None
        self._stack = AsyncExitStack()
        self.credential_source = "not resolved yet"
        """Where the remote credentials came from, for messages: never the credentials."""
        self.resolution = Resolution(None)
        self._forwarders: dict[str, Forwarder] = {}
        self._session: Any = None
        self._sources: dict[str, str] = {}

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
        self._session = session
        await self._credentials(session)
        client, self._forwarder, endpoint = await self._connect(session, self.settings)
        self._call.open(client)
        if self._data is not None and endpoint is not None:
            self._data.open(endpoint)
        for override in self.settings.bucket_settings:
            await self._open_bucket(session, override)

    async def _connect(
        self, session: Any, settings: RemoteSettings
    ) -> tuple[Any, Forwarder, Endpoint | None]:
        """A client, a forwarder and the data path's endpoint (with ``remote.data_path =
        "native"``) for ``settings``, signing with the session's credentials."""
        client = await self._stack.enter_async_context(
            session.create_client(**client_arguments(settings))
        )
        client.meta.events.register_last("before-call.s3", expect_continue_only_when_large)
        RetryWindow(settings.retry_window).register(client.meta.events)
        key_file, key = settings.sse_customer_key_file, None
        if key_file is not None:
            key = await asyncio.to_thread(sse_c.load_key, key_file)
            # First, on each operation's own event: botocore's handler there then turns the
            # key into its base64 and MD5 (a handler of the whole service would run after it).
            hook = sse_c.parameters_hook(key)
            for operation in sse_c.OPERATIONS:
                client.meta.events.register_first(f"before-parameter-build.s3.{operation}", hook)
        forwarder = await self._stack.enter_async_context(Forwarder(session, client, settings))
        if self._data is None:
            return client, forwarder, None
        http = await self._stack.enter_async_context(await session_for(settings))
        native = NativeClient(session, client, settings, http)
        endpoint = Endpoint(native, HeaderParams(client.meta.service_model), key)
        return client, forwarder, endpoint

    async def _open_bucket(self, base: Any, override: BucketRemote) -> None:
        """A client of its own for a bucket of ``remote.bucket_settings``: its endpoint,
        region and addressing style, signing with the chain's credentials or with a role
        assumed with them (refreshed before it expires, each renewal audited)."""
        settings = bucket_remote(self.settings, override)
        credentials = base._credentials
        source = self.credential_source
        if override.role_arn and credentials is not None:
            credentials = await assume_role(
                base, credentials, override, settings.region, config=service_config(settings)
            )
            audit = Audit(settings.credentials_audit_file)
            bucket, role = override.bucket, override.role_arn
            audit.record(
                "resolved", "assume-role", key_id_of(credentials), expiry_of(credentials),
                bucket=bucket, role=role,
            )  # fmt: skip
            audit_refreshes(credentials, "assume-role", audit, bucket=bucket, role=role)
            source = f"role {role} assumed with {self.credential_source}"
        await self._route(override.bucket, settings, credentials, source)

    async def use_sidecar(self, bucket: str, sidecar: Sidecar) -> None:
        """Sign the bucket's requests with the credentials a ``drs.credentials.json`` names,
        obtained with the chain's. ``remote.bucket_settings`` wins over a sidecar. Raises
        SidecarError."""
        base = self._session
        if bucket in self._sources or base is None or base._credentials is None:
            return
        credentials = await credentials_for(
            sidecar,
            base,
            base._credentials,
            bucket,
            self.settings.region,
            service_config(self.settings),
        )
        audit = Audit(self.settings.credentials_audit_file)
        role = sidecar.role_arn or None
        audit.record(
            "resolved", SIDECAR, key_id_of(credentials), expiry_of(credentials), bucket, role
        )
        audit_refreshes(credentials, SIDECAR, audit, bucket=bucket, role=role)
        source = f"{sidecar.describe}, obtained with {self.credential_source}"
        await self._route(bucket, self.settings, credentials, source)

    async def _route(
        self, bucket: str, settings: RemoteSettings, credentials: Any, source: str
    ) -> None:
        session = await asyncio.to_thread(new_session, settings)
        session._credentials = credentials
        client, forwarder, endpoint = await self._connect(session, settings)
        self._call.route(bucket, client)
        if self._data is not None and endpoint is not None:
            self._data.route(bucket, endpoint)
        self._forwarders[bucket] = forwarder
        self._sources[bucket] = source

    def credentials_status(self) -> dict[str, object]:
        """For ``s3d status``: where the credentials came from, the key id's last 4
        characters and the expiry; never a secret."""
        credentials = self.resolution.credentials
        expiry = expiry_of(credentials) if credentials is not None else None
        # The embedded remote's placeholder is no key of anyone's: none is shown.
        real = credentials is not None and self.resolution.method != EMBEDDED_REMOTE
        return {
            "source": self.credential_source,
            "key_id_suffix": key_id_of(credentials)[-4:] if real else None,
            "expiry": expiry.isoformat(timespec="seconds") if expiry else None,
            "buckets": dict(self._sources),
        }

    def source_for(self, bucket: str) -> str:
        """Where the credentials a bucket's requests are signed with came from."""
        return self._sources.get(bucket, self.credential_source)

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
        session._credentials = credentials  # what get_credentials() answers from now on
        if resolution.method == EMBEDDED_REMOTE:
            return  # nothing resolved, nothing to audit: moto takes any signature
        if resolution.method == CONFIGURATION:
            log.warning(
                "the remote credentials are written in s3d's configuration: prefer the "
                "environment, a profile or a role, which keep secrets out of files"
            )
        audit = Audit(settings.credentials_audit_file)
        audit.record("resolved", resolution.method, key_id_of(credentials), expiry_of(credentials))
        audit_refreshes(credentials, resolution.method, audit)

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and the forwarder and their connections. Idempotent; shielded
        from cancellation so the pool is always released."""
        self._call.close()
        if self._data is not None:
            self._data.close()
        self._forwarder = None
        self._forwarders.clear()
        await asyncio.shield(self._stack.aclose())

    async def presign_get(self, bucket: str, key: str, expires: int) -> str:
        """A presigned GET URL to the remote object (DRS access URLs pointing at the remote)."""
        return await self._call.presign_get(bucket, key, expires)

    async def forward(
        self, op: ops.Forwarded, body: StagedBody | None, *, signed: bool = True
    ) -> RawResponse:
        """See ``Forwarder.forward``."""
        forwarder = self._forwarders.get(op.bucket or "", self._forwarder)
        if forwarder is None:
            raise ServiceUnavailable("The remote S3 client is closed")
        return await forwarder.forward(op, body, signed=signed)


def _conforms(remote: RemoteS3) -> Remote:
    # mypy proves here that RemoteS3 fulfils the gateway's protocol.
    return remote
