"""From ``RemoteSettings`` to an aiobotocore session and the arguments of its S3 client.

Credentials: static ones from the settings are set on the session, so the client and the
forwarder sign with the same ones; otherwise botocore's default chain (environment, shared
files, web identity, container and instance metadata) resolves and refreshes them.

Botocore never reads a request body on the event loop: it computes no checksum s3d did not
ask for (``when_required``), never hashes a payload for signing (``payload_signing_enabled``
off: s3d sends Content-MD5 and the checksums it verified), and loads its data files in a
worker thread (``warm_up_loader_caches``).

Botocore asks for ``Expect: 100-continue`` on every upload with a file body, which costs a
round trip before the body leaves. s3d keeps it only for bodies of ``EXPECT_CONTINUE_FROM``
bytes or more: a small body costs less to send than to wait for, and s3d's own requests are
signed with credentials the remote has already accepted.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.httpsession import get_cert_path
from botocore.utils import determine_content_length

from s3d.settings import RemoteSettings

EXPECT_CONTINUE_FROM = 1 << 20
"""Uploads at least this large wait for ``100 Continue`` before sending their body."""

AWS = "aws"
"""``endpoint_url`` value meaning AWS S3's own endpoints for the region."""


def new_session(settings: RemoteSettings) -> AioSession:
    """A session holding the static credentials when given. Reads configuration files: call
    it in a worker thread."""
    session = get_session()
    if settings.access_key_id and settings.secret_access_key:
        session.set_credentials(
            settings.access_key_id, settings.secret_access_key, settings.session_token
        )
    session.get_scoped_config()
    return session


def service_config(settings: RemoteSettings) -> AioConfig:
    """The timeouts and attempts of every client s3d creates: the S3 client's, and those of
    the services credentials come from (STS, Secrets Manager)."""
    return AioConfig(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        # total_max_attempts counts the first attempt; botocore's max_attempts would not.
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
    )


def client_arguments(settings: RemoteSettings) -> dict[str, Any]:
    """Keyword arguments of ``session.create_client("s3", …)``."""
    s3_only = AioConfig(
        region_name=settings.region,
        max_pool_connections=settings.max_pool_connections,
        s3={"addressing_style": settings.addressing_style, "payload_signing_enabled": False},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        user_agent_extra="s3d",
        warm_up_loader_caches=True,
    )
    config = service_config(settings).merge(s3_only)
    return {
        "service_name": "s3",
        "region_name": settings.region,
        "endpoint_url": None if settings.endpoint_url == AWS else settings.endpoint_url,
        "verify": verify(settings),
        "config": config,
    }


def verify(settings: RemoteSettings) -> str | bool | None:
    """Botocore's ``verify``: a CA bundle path, False to skip checks, None for the default."""
    if not settings.verify_tls:
        return False
    return str(settings.ca_bundle) if settings.ca_bundle is not None else None


def ssl_context(settings: RemoteSettings) -> ssl.SSLContext | bool:
    """The same TLS policy for aiohttp. Reads the CA bundle: call it in a worker thread."""
    if not settings.verify_tls:
        return False
    # The bundle botocore itself trusts unless told otherwise (certifi's).
    cafile = str(settings.ca_bundle) if settings.ca_bundle is not None else get_cert_path(True)
    return ssl.create_default_context(cafile=cafile)


def expect_continue_only_when_large(params: dict[str, Any], **_: Any) -> None:
    """A ``before-call.s3`` handler, after botocore's own: drops the ``Expect`` header of
    bodies smaller than ``EXPECT_CONTINUE_FROM``."""
    headers = params.get("headers", {})
    if "Expect" not in headers:
        return
    length = determine_content_length(params.get("body"))
    if length is not None and length < EXPECT_CONTINUE_FROM:
        del headers["Expect"]


async def http_session(
    settings: RemoteSettings, skip: Iterable[str] = ("Content-Type",), **options: Any
) -> aiohttp.ClientSession:
    """An aiohttp session to the remote with the TLS policy, timeouts and pool size of the
    settings, answers left as they came (no decompression), none of the ``skip`` headers
    added on its own. Reads the CA bundle in a worker thread."""
    tls = await asyncio.to_thread(ssl_context, settings)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=settings.max_pool_connections, ssl=tls),
        timeout=aiohttp.ClientTimeout(
            sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
        ),
        auto_decompress=False,
        skip_auto_headers=tuple(skip),
        **options,
    )
