"""Test support: a real moto server as the remote and a real s3d daemon, both on loopback.

The daemon runs in a thread with its own event loop, so tests drive it with ordinary
blocking clients (boto3, the AWS CLI, urllib) exactly as applications do.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from s3d.daemon import Daemon
from s3d.settings import AccessKey, LogSettings, RemoteSettings, ServerSettings, Settings

ACCESS_KEY = "S3DTESTKEY0000000001"
SECRET_KEY = "s3d-test-secret-key/with+odd=chars"
REMOTE_KEY = "remote-access-key-id"
REMOTE_SECRET = "remote-secret-that-must-not-leak"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def daemon_settings(remote_url: str, data_dir: Path, **server: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        server=replace(
            ServerSettings(
                port=0, access_keys=(AccessKey(ACCESS_KEY, SECRET_KEY),), shutdown_grace=5.0
            ),
            **server,
        ),
        remote=RemoteSettings(
            endpoint_url=remote_url,
            access_key_id=REMOTE_KEY,
            secret_access_key=REMOTE_SECRET,
            connect_timeout=2.0,
            read_timeout=60.0,
            max_attempts=2,
        ),
        log=LogSettings(level="warning"),
    )


class DaemonThread:
    """A Daemon serving from its own thread and event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.endpoint_url = ""
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="s3d-daemon", daemon=True)

    def __enter__(self) -> DaemonThread:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with Daemon(self.settings) as daemon:
            self.endpoint_url = daemon.endpoint_url
            self._ready.set()
            await self._stop.wait()


def client(endpoint_url: str, *, key: str = ACCESS_KEY, secret: str = SECRET_KEY, **config: object):
    """A boto3 S3 client for ``endpoint_url`` (path style, no retries to hide errors)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            **config,
        ),
    )


def sign(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    payload_hash: str | None = None,
    when: object = None,
    key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
    presign_expires: int | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign a raw request the way botocore does, optionally with a chosen payload hash or
    signing time; returns the URL (with the query for presigned) and the headers to send."""
    import datetime as dt
    from unittest import mock

    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    class _Auth(S3SigV4Auth):
        def payload(self, request):
            return payload_hash if payload_hash is not None else super().payload(request)

    request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    creds = Credentials(key, secret)
    signer = (
        S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=presign_expires)
        if presign_expires is not None
        else _Auth(creds, "s3", "us-east-1")
    )
    now = when if when is not None else dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        signer.add_auth(request)
    prepared = request.prepare()
    return prepared.url, dict(prepared.headers.items())


def send(
    method: str, url: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request with http.client: (status, headers lower-cased, body)."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        sent = {k.lower() for k in headers}
        for name, value in headers.items():
            conn.putheader(name, value)
        if "host" not in sent:
            conn.putheader("Host", parts.netloc)
        if body and "content-length" not in sent:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()
