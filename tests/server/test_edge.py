"""The front door under abuse: slow request heads, idle and surplus connections, unparsable
requests. A real daemon in front of moto, driven over raw sockets and boto3; every timeout is
set small through the server settings so the tests stay quick."""

from __future__ import annotations

import select
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.support import (
    DaemonProcess,
    DaemonThread,
    client,
    daemon_settings,
    s3_error_code,
    send,
    sign,
)

WAIT = 15.0
"""Longest any test waits for the daemon to act (a bound, not a measurement)."""


def _edge(remote_url: str, tmp_path, **server: object) -> DaemonThread:
    """A daemon of its own with these server settings (enter it to start it)."""
    return DaemonThread(daemon_settings(remote_url, tmp_path, **server))


def _address(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _connect(url: str) -> socket.socket:
    sock = socket.create_connection(_address(url), timeout=WAIT)
    return sock


def _closed_by_peer(sock: socket.socket, *, within: float = WAIT, trickle: bytes = b"") -> bool:
    """Wait (sending ``trickle`` every 0.2 s) until the daemon closes ``sock``; False if it is
    still open after ``within`` seconds. Any bytes the daemon sends are read and dropped."""
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if trickle:
                sock.sendall(trickle)
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable and sock.recv(65536) == b"":
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    return False


def _exchange(sock: socket.socket, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one request and read one response with a Content-Length (status, headers, body)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _raw(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with _connect(url) as sock:
        return _exchange(sock, request)


def _simple_get(url: str) -> bytes:
    """An unsigned GET / (answered 403 AccessDenied, on a connection kept alive)."""
    host, port = _address(url)
    return f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


def test_a_slow_request_head_is_cut_while_others_are_served(remote_url, tmp_path) -> None:
    with _edge(remote_url, tmp_path, header_timeout=1.0, idle_timeout=30.0) as edge:
        _slow_head_is_cut(edge)
        _slow_body_is_not_cut(edge)


def _slow_head_is_cut(edge: DaemonThread) -> None:
    s3 = client(edge.endpoint_url)
    slow = _connect(edge.endpoint_url)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    outcome: list[bool] = []
    trickler = threading.Thread(
        target=lambda: outcome.append(_closed_by_peer(slow, trickle=b"a")), daemon=True
    )
    trickler.start()
    # Meanwhile another client is served, on connections of its own.
    for _ in range(3):
        assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    trickler.join(WAIT + 5)
    slow.close()
    # Well within the idle timeout (30 s): the head timeout (1 s) closed it.
    assert outcome == [True], "a connection trickling its request head was never closed"


def _slow_body_is_not_cut(edge: DaemonThread) -> None:
    """The head timeout is for the head: a body may take longer (body_timeout rules it)."""
    client(edge.endpoint_url).create_bucket(Bucket="slow")
    body = b"0123456789" * 8
    _, headers = sign("PUT", f"{edge.endpoint_url}/slow/key", body=body)
    host, port = _address(edge.endpoint_url)
    headers = {"Host": f"{host}:{port}", **headers}
    headers["Content-Length"] = str(len(body))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with _connect(edge.endpoint_url) as sock:
        sock.sendall(f"PUT /slow/key HTTP/1.1\r\n{head}\r\n".encode())
        for start in range(0, len(body), 10):  # about 2.4 s in all, the head timeout is 1 s
            time.sleep(0.3)
            sock.sendall(body[start : start + 10])
        status, _, answer = _exchange(sock, b"")
    assert status == 200, answer
    stored = client(edge.endpoint_url).get_object(Bucket="slow", Key="key")["Body"].read()
    assert stored == body


def test_idle_connections_are_closed(remote_url, tmp_path) -> None:
    with _edge(remote_url, tmp_path, header_timeout=5.0, idle_timeout=1.0) as edge:
        _idle_connections_are_closed(edge)


def _idle_connections_are_closed(edge: DaemonThread) -> None:
    used = _connect(edge.endpoint_url)
    status, headers, _ = _exchange(used, _simple_get(edge.endpoint_url))
    assert status == 403
    assert headers.get("connection", "keep-alive") != "close"
    never_used = [_connect(edge.endpoint_url) for _ in range(20)]
    try:
        assert _closed_by_peer(used), "an idle keep-alive connection stayed open"
        assert all(_closed_by_peer(sock) for sock in never_used)
    finally:
        for sock in [used, *never_used]:
            sock.close()
    # New connections are served as ever.
    assert client(edge.endpoint_url).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_connections_beyond_the_limit_get_slowdown(remote_url, tmp_path) -> None:
    with _edge(remote_url, tmp_path, max_connections=3, header_timeout=5.0) as edge:
        _surplus_connections_get_slowdown(edge)


def _surplus_connections_get_slowdown(edge: DaemonThread) -> None:
    held = [_connect(edge.endpoint_url) for _ in range(3)]
    try:
        for sock in held:  # each one registered and served
            assert _exchange(sock, _simple_get(edge.endpoint_url))[0] == 403
        url, headers = sign("GET", f"{edge.endpoint_url}/")
        status, answered, body = send("GET", url, headers)
        assert (status, s3_error_code(body)) == (503, "SlowDown"), body
        assert answered["retry-after"] == "1"
        assert answered["connection"] == "close"
        assert f"<RequestId>{answered['x-amz-request-id']}</RequestId>".encode() in body
        with pytest.raises(ClientError) as refused:
            client(edge.endpoint_url).list_buckets()
        assert refused.value.response["Error"]["Code"] == "SlowDown"
        # The admin endpoint still answers, so an overloaded daemon can be looked at.
        url, headers = sign("GET", f"{edge.endpoint_url}/_s3d/status")
        assert send("GET", url, headers)[0] == 200
    finally:
        for sock in held:
            sock.close()
    assert _eventually_served(edge.endpoint_url)


def _eventually_served(url: str) -> bool:
    # The daemon forgets a closed connection once it has seen it close: a moment later.
    return _eventually(client(url).list_buckets)


def _eventually(call: Callable[[], object]) -> bool:
    """Whether ``call`` succeeds within ``WAIT`` seconds, retried while it raises."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            call()
            return True
        except (ClientError, BotoCoreError):
            time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    ("request_bytes", "code"),
    [
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
            "RequestHeaderSectionTooLarge",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\n"
            + b"".join(b"X-%d: a\r\n" % i for i in range(200))
            + b"\r\n",
            "RequestHeaderSectionTooLarge",
        ),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n", "RequestHeaderSectionTooLarge"),
        (b"PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 12ab\r\n\r\n", "BadRequest"),
        (b"PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", "BadRequest"),
        (b"GARBAGE\r\n\r\n", "BadRequest"),
        (b"GET / HTTP/9.x\r\nHost: h\r\n\r\n", "BadRequest"),
    ],
    ids=[
        "long-header",
        "many-headers",
        "long-request-line",
        "content-length",
        "negative-length",
        "request-line",
        "version",
    ],
)
def test_unparsable_requests_get_s3_errors(
    s3d: DaemonThread, request_bytes: bytes, code: str
) -> None:
    with _connect(s3d.endpoint_url) as sock:
        status, headers, body = _exchange(sock, request_bytes)
        assert (status, s3_error_code(body)) == (400, code), body
        assert headers["content-type"] == "application/xml"
        request_id = headers["x-amz-request-id"]
        assert f"<RequestId>{request_id}</RequestId>".encode() in body
        assert _closed_by_peer(sock, within=5)
    # And the daemon keeps serving.
    assert client(s3d.endpoint_url).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


# The daemon in a process of its own whose open-file limit is set before s3d starts.
_LIMITED = (
    "import resource, runpy, sys\n"
    "files = int(sys.argv.pop(1))\n"
    "resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))\n"
    "sys.argv[0] = 's3d'\n"
    "runpy.run_module('s3d', run_name='__main__')\n"
)


def test_running_out_of_files_is_overload_not_a_log_flood(tmp_path) -> None:
    files = 200
    daemon = DaemonProcess(
        ["--data-dir", str(tmp_path / "data"), "--port", "0", "--log-level", "info"]
    )
    daemon.args = [sys.executable, "-c", _LIMITED, str(files), *daemon.args[3:]]
    with daemon:
        address = _address(daemon.endpoint_url)
        s3 = client(daemon.endpoint_url, key=daemon.access_key_id, secret=daemon.secret_access_key)
        s3.create_bucket(Bucket="during-overload")  # its connection stays in boto3's pool
        held = []
        try:
            # More connections than the daemon has files: accept() fails with EMFILE.
            for _ in range(files + 50):
                held.append(socket.create_connection(address, timeout=WAIT))
            daemon.wait_for_output("cannot accept connections", timeout=WAIT)
            # A PUT on a connection opened before finds no file to stage its body in: a
            # SlowDown to retry, not an internal error.
            with pytest.raises(ClientError) as refused:
                s3.put_object(Bucket="during-overload", Key="k", Body=b"too many files")
            assert refused.value.response["Error"]["Code"] == "SlowDown"
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        finally:
            for sock in held:
                sock.close()
        assert _eventually(lambda: s3.create_bucket(Bucket="after-overload"))
        s3.put_object(Bucket="after-overload", Key="k", Body=b"still serving")
        assert s3.get_object(Bucket="after-overload", Key="k")["Body"].read() == b"still serving"
        daemon.wait_for_output("accepting connections again", timeout=WAIT)
    log = daemon.stderr
    assert "Traceback" not in log, log[-3000:]
    assert 1 <= log.count("cannot accept connections") <= 10, log[-3000:]
    assert "open-file limit (200) is below server.max_connections" in log
