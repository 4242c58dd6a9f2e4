"""The native data path under faults and credentials: throttling retried, a reset mid-body,
temporary credentials refreshed before signing, SSE-C with s3d's key, and the fallback
setting. The faulty remotes are real loopback servers written here (aiohttp, raw sockets);
signatures and SSE-C are checked by a real SeaweedFS."""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
import threading
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.credentials import AioCredentials, AioRefreshableCredentials
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.seaweed_checked import ACCESS_KEY, SECRET_KEY
from s3d.protocol import errors
from s3d.protocol import operations as ops
from s3d.remote.client import RemoteS3
from s3d.remote.connect import EXPECT_CONTINUE_FROM as EXPECT_FROM
from tests.remote.conftest import Stage, new_bucket, read_all, remote_settings, seaweed_settings

HANG_GUARD = 60.0
DATA = bytes(range(256)) * 16
SLOW_DOWN = (
    b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
    b"<RequestId>r1</RequestId></Error>"
)


class Throttling:
    """A real HTTP remote answering the first ``refusals`` requests 503 SlowDown."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.bodies: list[bytes] = []
        self.requests: list[web.Request] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        self.bodies.append(await request.read())
        if len(self.requests) <= self.refusals:
            return web.Response(status=503, body=SLOW_DOWN, headers={"Retry-After": "1"})
        return web.Response(body=DATA, headers={"ETag": '"e"'})


@pytest.fixture
async def throttling() -> AsyncIterator[tuple[str, Throttling]]:
    remote = Throttling(refusals=1)
    app = web.Application(client_max_size=4 * EXPECT_FROM)
    app.router.add_route("*", "/{tail:.*}", remote.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/"), remote


async def test_slow_down_is_retried_and_a_large_body_sent_again(
    throttling: tuple[str, Throttling], stage: Stage
) -> None:
    url, remote = throttling
    async with RemoteS3(remote_settings(url, max_attempts=3)) as client:
        answer = await client.get_object(ops.GetObject("b", "k"))
        assert (answer.status, await read_all(answer.body)) == (200, DATA)
        assert len(remote.requests) == 2
        large = b"L" * EXPECT_FROM  # a file body, rewound for the second attempt
        remote.refusals = 3
        await client.put_object(ops.PutObject("b", "large"), await stage(large))
    assert remote.bodies[2:] == [large, large]


async def test_slow_down_past_the_attempts_is_the_remotes_error(
    throttling: tuple[str, Throttling],
) -> None:
    url, remote = throttling
    async with RemoteS3(remote_settings(url, max_attempts=1)) as client:
        with pytest.raises(errors.S3Error) as raised:
            await client.get_object(ops.GetObject("b", "k"))
    assert (raised.value.code, raised.value.status) == ("SlowDown", 503)
    assert raised.value.headers["retry-after"] == "1"
    assert len(remote.requests) == 1


class ResetMidBody:
    """A raw-socket remote: answers each request with headers promising ``length`` bytes,
    sends ``sent`` of them, then resets the connection (RST)."""

    def __init__(self, length: int, sent: int) -> None:
        self.length, self.sent, self.accepted = length, sent, 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ResetMidBody:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        self._thread.join(10)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                head = f'HTTP/1.1 200 OK\r\nContent-Length: {self.length}\r\nETag: "e"\r\n\r\n'
                conn.sendall(head.encode() + b"x" * self.sent)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def test_a_connection_reset_mid_body_is_service_unavailable_for_the_reader() -> None:
    with ResetMidBody(length=100_000, sent=1000) as remote:
        async with RemoteS3(remote_settings(remote.url, max_attempts=3)) as client:
            answer = await asyncio.wait_for(client.get_object(ops.GetObject("b", "k")), HANG_GUARD)
            assert answer.status == 200
            with pytest.raises(errors.ServiceUnavailable) as raised:
                await asyncio.wait_for(read_all(answer.body), HANG_GUARD)
    assert "could not be reached" in raised.value.message
    assert remote.accepted == 1  # a body handed up is never fetched again behind the reader


async def test_expired_temporary_credentials_are_refreshed_before_signing(
    seaweed_url: str, stage: Stage
) -> None:
    refreshed: list[datetime] = []

    async def refresh() -> dict[str, str]:
        refreshed.append(datetime.now(UTC))
        later = datetime.now(UTC) + timedelta(hours=1)
        return {
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "token": "",
            "expiry_time": later.isoformat(),
        }

    expired = {
        "access_key": "ASIAEXPIREDKEY000001",
        "secret_key": "expired-secret",
        "token": "expired-token",
        "expiry_time": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }
    async with RemoteS3(seaweed_settings(seaweed_url)) as remote:
        bucket = await new_bucket(remote)
        session: Any = remote._session
        session._credentials = AioRefreshableCredentials.create_from_metadata(
            expired, refresh, "test-temporary"
        )
        await remote.put_object(ops.PutObject(bucket, "k"), await stage(DATA))
        answer = await remote.get_object(ops.GetObject(bucket, "k"))
        assert await read_all(answer.body) == DATA
        assert len(refreshed) == 1  # refreshed once, before the first request was signed
        # SeaweedFS does check the signature: stale static credentials are refused.
        session._credentials = AioCredentials("ASIAEXPIREDKEY000001", "expired-secret")
        with pytest.raises(errors.AccessDenied) as raised:
            await remote.get_object(ops.GetObject(bucket, "k"))
    assert "refused s3d's credentials" in raised.value.message
    assert "expired-secret" not in str(raised.value)


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[str, list[web.Request]]]:
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        await request.read()
        return web.Response(body=DATA, headers={"ETag": '"e"'})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/"), seen


async def test_a_session_token_is_sent_and_signed(recorder: tuple[str, list[web.Request]]) -> None:
    url, seen = recorder
    async with RemoteS3(remote_settings(url, session_token="the-session-token")) as remote:
        answer = await remote.get_object(ops.GetObject("b", "k"))
        await read_all(answer.body)
    headers = seen[0].headers
    assert headers["x-amz-security-token"] == "the-session-token"
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-amz-security-token" in signed
    assert "host" in signed
    assert headers["User-Agent"] == "s3d"


async def test_the_botocore_setting_keeps_aiobotocore_on_the_data_path(
    recorder: tuple[str, list[web.Request]],
) -> None:
    url, seen = recorder
    async with RemoteS3(remote_settings(url, data_path="botocore")) as remote:
        answer = await remote.get_object(ops.GetObject("b", "k"))
        assert await read_all(answer.body) == DATA
    assert "Botocore" in seen[0].headers["User-Agent"]


async def test_sse_c_round_trip_with_s3ds_key(
    seaweed_url: str, stage: Stage, tmp_path: Path
) -> None:
    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(bytes(range(32)))
    async with RemoteS3(seaweed_settings(seaweed_url, sse_customer_key_file=key_file)) as remote:
        bucket = await new_bucket(remote)
        await remote.put_object(ops.PutObject(bucket, "secret"), await stage(DATA))
        answer = await remote.get_object(ops.GetObject(bucket, "secret"))
        assert await read_all(answer.body) == DATA
        head = await remote.get_object(ops.GetObject(bucket, "secret", head=True))
        assert dict(head.headers)["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    # Without the key the remote refuses to read it: it is stored encrypted under s3d's key.
    async with RemoteS3(seaweed_settings(seaweed_url)) as keyless:
        with pytest.raises(errors.S3Error) as raised:
            await keyless.get_object(ops.GetObject(bucket, "secret"))
    assert raised.value.status == 400


@pytest.fixture
async def lying() -> AsyncIterator[str]:
    """A real HTTP remote whose answers carry a CRC32 that is not their body's."""

    async def handle(request: web.Request) -> web.Response:
        crc = "AAAAAA==" if request.path.endswith("/wrong") else crc32_of(DATA)
        return web.Response(body=DATA, headers={"ETag": '"e"', "x-amz-checksum-crc32": crc})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


def crc32_of(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


async def test_a_body_that_does_not_match_its_checksum_fails_at_its_end(lying: str) -> None:
    mode = (("x-amz-checksum-mode", "ENABLED"),)
    async with RemoteS3(remote_settings(lying)) as remote:
        good = await remote.get_object(ops.GetObject("b", "right", headers=mode))
        assert await read_all(good.body) == DATA
        bad = await remote.get_object(ops.GetObject("b", "wrong", headers=mode))
        with pytest.raises(errors.InternalError) as raised:
            await read_all(bad.body)
        assert "did not match its checksum" in raised.value.message
        # Without checksum mode nothing is checked, as with botocore.
        unchecked = await remote.get_object(ops.GetObject("b", "wrong"))
        assert await read_all(unchecked.body) == DATA


async def test_a_bucket_the_remote_redirects_is_left_to_botocore() -> None:
    # The remote sends s3d's own requests elsewhere (301, another region): botocore, which
    # follows redirects, takes the bucket's calls from then on.
    agents: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        agents.append(request.headers.get("User-Agent", ""))
        if request.headers.get("User-Agent") == "s3d":
            return web.Response(status=301, headers={"x-amz-bucket-region": "us-east-1"})
        return web.Response(body=DATA, headers={"ETag": '"e"'})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("")).rstrip("/")
        async with RemoteS3(remote_settings(url)) as remote:
            for _ in range(2):
                answer = await remote.get_object(ops.GetObject("moved", "k"))
                assert await read_all(answer.body) == DATA
    assert agents[0] == "s3d"
    assert all("Botocore" in agent for agent in agents[1:])
    assert len(agents) == 3  # the native attempt once, then botocore for both reads
