"""Test support: a real moto server as the remote and a real s3d daemon, both on loopback.

The daemon runs in a thread with its own event loop, so tests drive it with ordinary
blocking clients (boto3, the AWS CLI, urllib) exactly as applications do.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from s3d.daemon import Daemon
from s3d.settings import (
    AccessKey,
    JournalSettings,
    LogSettings,
    RemoteSettings,
    ServerSettings,
    Settings,
)

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


def isolate_aws_env(monkeypatch: Any, tmp_path: Path) -> None:
    """No credentials from the machine running the tests: no AWS_* variables, no ~/.aws
    files, no instance metadata (a test turns on what it exercises)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@contextmanager
def moto_process(env: dict[str, str] | None = None) -> Iterator[str]:
    """moto's S3 server in a process of its own (``env`` added to its environment), on
    loopback; its URL once it accepts connections."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def daemon_settings(
    remote_url: str, data_dir: Path, *, mode: str = "write-through", **server: object
) -> Settings:
    """Settings for a test daemon. Write-through unless asked otherwise: most tests look at
    the remote right after a write through s3d; the journal's own tests ask for write-back."""
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
        journal=JournalSettings(mode=mode, retry_base=0.2, retry_max=2.0, flush_on_stop=5.0),  # type: ignore[arg-type]
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
        self.daemon: Daemon | None = None
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

    def call(self, coroutine: Any) -> Any:
        """Run a coroutine on the daemon's event loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(60)

    def cache_stats(self) -> dict[str, object]:
        assert self.daemon is not None
        assert self.daemon.cache is not None
        return self.daemon.cache.stats.as_dict()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with Daemon(self.settings) as daemon:
            self.daemon = daemon
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


# --- Real processes, TLS certificates and configuration files -------------------------------


def s3_error_code(body: bytes) -> str:
    """The <Code> of an S3 error document ("" when the body is not one)."""
    text = body.decode("utf-8", "replace")
    if "<Code>" not in text:
        return ""
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def make_tls_cert(directory: Path, *, ip: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``ip`` (its own CA, so clients can verify against it):
    (cert.pem, key.pem) in ``directory``."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"s3d test {ip}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def write_config(path: Path, sections: dict[str, dict[str, object]]) -> Path:
    """A TOML configuration file: ``{"": top-level, "server": {...}, ...}``; a list of dicts
    becomes an array of tables (``server.access_keys``)."""
    import json

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(item) for item in v) + "]"
        return json.dumps(str(v))  # a JSON string is a TOML basic string

    lines: list[str] = []
    tables: list[str] = []
    for section, entries in sections.items():
        if section:
            lines.append(f"[{section}]")
        for name, v in entries.items():
            if isinstance(v, list) and v and all(isinstance(item, dict) for item in v):
                for item in v:
                    tables.append(f"[[{section}.{name}]]")
                    tables += [f"{k} = {value(x)}" for k, x in item.items()]
            else:
                lines.append(f"{name} = {value(v)}")
    path.write_text("\n".join(lines + tables) + "\n")
    return path


class DaemonProcess:
    """``python -m s3d serve`` as a real subprocess, in its own session so that signals the
    test sends reach only it. Its stdout and stderr are collected as they come; the banner is
    parsed on start (``endpoint_url``, ``access_key_id``, ``secret_access_key``). Leaving the
    context kills the process if it is still running."""

    def __init__(self, args: list[str], *, cwd: Path | None = None) -> None:
        import os

        self.args = [sys.executable, "-m", "s3d", "serve", *args]
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("S3D_", "AWS_"))}
        self.env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        self.endpoint_url = ""
        self.access_key_id = ""
        self.secret_access_key = ""
        self._out: list[str] = []
        self._err: list[str] = []
        self._changed = threading.Condition()
        self._process: subprocess.Popen[str] | None = None
        self._readers: list[threading.Thread] = []

    @property
    def process(self) -> subprocess.Popen[str]:
        assert self._process is not None, "not started"
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdout(self) -> str:
        with self._changed:
            return "".join(self._out)

    @property
    def stderr(self) -> str:
        with self._changed:
            return "".join(self._err)

    def __enter__(self) -> DaemonProcess:
        self._process = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            cwd=self.cwd,
            env=self.env,
            start_new_session=True,
        )
        for stream, sink in ((self._process.stdout, self._out), (self._process.stderr, self._err)):
            reader = threading.Thread(target=self._collect, args=(stream, sink), daemon=True)
            reader.start()
            self._readers.append(reader)
        try:
            self._read_banner()
        except BaseException:
            self.kill()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()

    def kill(self) -> None:
        """SIGKILL if still running; then wait for it and for its output. Idempotent."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(60)
        for reader in self._readers:
            reader.join(10)

    def send_signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """The exit status, once the process has exited and its output has been read."""
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(10)
        return code

    def wait_for_output(self, text: str, *, stream: str = "stderr", timeout: float = 60) -> None:
        """Block until ``text`` appears in ``stream``; AssertionError on timeout or exit."""
        import time

        deadline = time.monotonic() + timeout
        sink = self._err if stream == "stderr" else self._out
        with self._changed:
            while text not in "".join(sink):
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reading()):
                    raise AssertionError(
                        f"{text!r} not in {stream} of s3d; stdout:\n{''.join(self._out)}\n"
                        f"stderr:\n{''.join(self._err)}"
                    )
                self._changed.wait(min(left, 0.5))

    def _reading(self) -> bool:
        return any(reader.is_alive() for reader in self._readers)

    def _collect(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            with self._changed:
                sink.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _read_banner(self) -> None:
        self.wait_for_output("secret access key:", stream="stdout")
        fields = {}
        for line in self.stdout.splitlines():
            if line.startswith("s3d is serving S3 at "):
                self.endpoint_url = line.removeprefix("s3d is serving S3 at ").strip()
            name, colon, rest = line.strip().partition(":")
            if colon and name in ("access key id", "secret access key"):
                fields[name] = rest.strip()
        self.access_key_id = fields["access key id"]
        self.secret_access_key = fields["secret access key"]
        if self.secret_access_key.startswith("(in "):  # not printed off a terminal: its file
            path = self.secret_access_key.removeprefix("(in ").partition(";")[0]
            self.secret_access_key = json.loads(Path(path).read_text())["secret_access_key"]
        assert self.endpoint_url, self.stdout


@dataclass
class Fault:
    """A failure a ``CountingRelay`` injects into requests of ``method`` whose path and query
    contain ``needle``: answer ``status`` with S3 error ``code`` instead of passing the request
    on, or (``status`` 0) pass it on and drop the connection instead of answering — the remote
    acted, the client never learns it. ``times`` requests, then it is spent."""

    method: str
    needle: str
    times: int = 1
    status: int = 0
    code: str = "InternalError"

    def matches(self, path_qs: str) -> bool:
        return self.needle in path_qs


class CountingRelay:
    """A plain HTTP relay in front of the remote that records every request it passes on
    (method, path, Range header), so tests can count what s3d asks the remote for.

    Runs on its own thread and event loop; bodies stream through in both directions.
    """

    def __init__(self, target: str, *, delay: float = 0.0) -> None:
        self.target = target.rstrip("/")
        self.requests: list[tuple[str, str, str | None]] = []
        self.headers: list[tuple[str, str, dict[str, str]]] = []
        """(method, path and query, headers in lower case) of every request passed on."""
        self.writes: list[tuple[str, str, bytes]] = []
        """(method, path, body) of every PUT, POST and DELETE passed on, in arrival order."""
        self.delay = delay
        """Seconds added before each request is passed on: a slow remote."""
        self.faults: list[Fault] = []
        """Failures to inject, first match wins (``inject``)."""
        self.etags: dict[str, str] = {}
        """With ``opaque_etags``: each ETag the relay answered, by the remote's own."""
        self.opaque_etags = False
        """Answer ETags that are not the MD5 of the bytes, as S3 does under SSE-C (moto,
        which does not encrypt, gives MD5s): each remote ETag is replaced by another, the same
        every time, and ETags in conditional requests are mapped back."""
        self.url = ""
        self._held: set[tuple[str, str, bytes | None]] = set()
        self._held_answers: set[tuple[str, str]] = set()
        self.answers_waiting = 0
        """Answers of the remote held by ``hold_answers`` at this moment."""
        self._held_changed: asyncio.Event | None = None
        self._open: asyncio.Event | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> CountingRelay:
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop relaying (the remote becomes unreachable through it). Idempotent."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def hold_writes(self, held: bool) -> None:
        """While held, PUT, POST and DELETE wait in the relay (reads still pass): changes
        stay pending in s3d while the remote answers everything else."""
        assert self._loop is not None
        assert self._open is not None
        self._loop.call_soon_threadsafe(self._open.clear if held else self._open.set)

    def hold(
        self, method: str, needle: str, held: bool = True, *, body: bytes | None = None
    ) -> None:
        """While held, requests of ``method`` whose path and query contain ``needle`` (and
        whose body is ``body``, if given) wait in the relay, after being counted in
        ``requests``; everything else passes."""
        assert self._loop is not None

        def change() -> None:
            (self._held.add if held else self._held.discard)((method, needle, body))
            assert self._held_changed is not None
            self._held_changed.set()
            self._held_changed = asyncio.Event()

        self._loop.call_soon_threadsafe(change)

    def hold_answers(self, method: str, needle: str, held: bool = True) -> None:
        """While held, the remote's answers to requests of ``method`` whose path and query
        contain ``needle`` wait in the relay: the remote has acted, s3d does not know yet."""
        assert self._loop is not None

        def change() -> None:
            (self._held_answers.add if held else self._held_answers.discard)((method, needle))
            assert self._held_changed is not None
            self._held_changed.set()
            self._held_changed = asyncio.Event()

        self._loop.call_soon_threadsafe(change)

    def inject(self, fault: Fault) -> None:
        """Fail the next ``fault.times`` requests it matches (thread-safe enough: appended
        whole, read by the relay's loop)."""
        self.faults.append(fault)

    def _fault(self, method: str, path_qs: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.matches(path_qs):
                fault.times -= 1
                return fault
        return None

    def _opaque(self, etag: str) -> str:
        if etag not in self.etags:
            self.etags[etag] = '"' + hashlib.sha256(etag.encode()).hexdigest()[:32] + '"'
        return self.etags[etag]

    def count(self, method: str, path_prefix: str = "") -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p.startswith(path_prefix))

    def clear(self) -> None:
        self.requests.clear()

    async def _main(self) -> None:
        import aiohttp
        from aiohttp import web

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._open = asyncio.Event()
        self._open.set()
        self._held_changed = asyncio.Event()
        hop = {"host", "content-length", "transfer-encoding", "connection"}
        async with aiohttp.ClientSession(auto_decompress=False) as session:

            async def relay(request: web.Request) -> web.StreamResponse:
                self.requests.append((request.method, request.path, request.headers.get("Range")))
                lowered = {k.lower(): v for k, v in request.headers.items()}
                self.headers.append((request.method, request.path_qs, lowered))
                headers = {k: v for k, v in request.headers.items() if k.lower() not in hop}
                data = await request.read()
                if self.opaque_etags:
                    back = {v: k for k, v in self.etags.items()}
                    for name in ("If-Match", "If-None-Match"):
                        if name in headers:
                            headers[name] = back.get(headers[name], headers[name])
                    for new, old in back.items():  # part lists of CompleteMultipartUpload
                        data = data.replace(new.encode(), old.encode())
                while any(
                    request.method == m and n in request.path_qs and b in (None, data)
                    for m, n, b in self._held
                ):
                    assert self._held_changed is not None
                    await self._held_changed.wait()
                if request.method in ("PUT", "POST", "DELETE"):
                    assert self._open is not None
                    await self._open.wait()
                    self.writes.append((request.method, request.path_qs, data))
                if self.delay:
                    await asyncio.sleep(self.delay)
                fault = self._fault(request.method, request.path_qs)
                if fault is not None and fault.status:
                    body = f"<Error><Code>{fault.code}</Code><Message>injected</Message></Error>"
                    return web.Response(status=fault.status, text=body)
                async with session.request(
                    request.method,
                    self.target + request.raw_path,
                    headers=headers,
                    data=data or None,
                    allow_redirects=False,
                    # Pass the request on as it came: no Content-Type of aiohttp's own.
                    skip_auto_headers=("Content-Type",),
                ) as upstream:
                    while any(
                        request.method == m and n in request.path_qs for m, n in self._held_answers
                    ):
                        assert self._held_changed is not None
                        self.answers_waiting += 1
                        try:
                            await self._held_changed.wait()
                        finally:
                            self.answers_waiting -= 1
                    answered = {k: v for k, v in upstream.headers.items() if k.lower() not in hop}
                    if self.opaque_etags:
                        for name in [k for k in answered if k.lower() == "etag"]:
                            answered[name] = self._opaque(answered[name])
                    response = web.StreamResponse(status=upstream.status, headers=answered)
                    if fault is not None:  # the remote acted; its answer is lost
                        await upstream.read()
                        assert request.transport is not None
                        request.transport.abort()
                        return response
                    if upstream.content_length is not None:
                        response.content_length = upstream.content_length
                    await response.prepare(request)
                    async for chunk in upstream.content.iter_chunked(1 << 16):
                        await response.write(chunk)
                    await response.write_eof()
                    return response

            app = web.Application(client_max_size=1 << 34)
            app.router.add_route("*", "/{tail:.*}", relay)
            runner = web.AppRunner(app, access_log=None, auto_decompress=False)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.url = f"http://{host}:{port}"
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()
