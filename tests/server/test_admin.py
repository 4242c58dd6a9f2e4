"""The admin endpoint ``/_s3d/…`` on a real daemon: authenticated as S3 requests are,
S3 error XML when refused, and never in the way of an S3 request.

The journal's commands (``flush``, ``journal/retry``, ``journal/discard``) are tested here
against ``FakeJournal``, a plain ``JournalControl`` that records what it is asked, served by the
real aiohttp app and admin handler: these tests are about the routes (query checking, answers,
authentication, access log), not the journal. The real journal behind these commands is
exercised by tests/journal, and end to end by ``s3d flush`` in tests/test_cli.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3d.cache.stats import CacheStats
from s3d.gateway import Gateway
from s3d.remote.client import RemoteS3
from s3d.server.admin import AdminHandler, admin_routes
from s3d.server.app import build_app
from s3d.server.auth import Authenticator
from s3d.server.handler import S3Handler
from s3d.settings import CacheSettings
from s3d.staging import StagingArea
from tests.support import (
    ACCESS_KEY,
    SECRET_KEY,
    DaemonThread,
    client,
    daemon_settings,
    s3_error_code,
    send,
    sign,
)

BASE_DOMAIN = "s3.admin.test"


@pytest.fixture(scope="module")
def daemon(remote_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonThread]:
    data_dir = tmp_path_factory.mktemp("admin-data")
    settings = daemon_settings(remote_url, data_dir, base_domains=(BASE_DOMAIN,))
    with DaemonThread(settings) as running:
        yield running


@pytest.fixture(scope="module")
def bucket(daemon: DaemonThread) -> str:
    name = f"adm-{uuid.uuid4().hex[:16]}"
    client(daemon.endpoint_url).create_bucket(Bucket=name)
    return name


def status_url(daemon: DaemonThread, path: str = "/_s3d/status") -> str:
    return daemon.endpoint_url + path


def signed_get(url: str, **kwargs: object) -> tuple[int, dict[str, str], bytes]:
    signed_url, headers = sign("GET", url, **kwargs)
    return send("GET", signed_url, headers)


def test_signed_get_answers_the_status_document(daemon: DaemonThread, remote_url: str) -> None:
    status, headers, body = signed_get(status_url(daemon))
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    assert len(headers["x-amz-request-id"]) == 16
    document = json.loads(body)
    assert set(document) >= {"version", "uptime_seconds", "endpoint", "remote", "cache"}
    assert document["endpoint"] == daemon.endpoint_url
    assert document["remote"] == remote_url
    assert isinstance(document["uptime_seconds"], int | float)
    assert document["uptime_seconds"] >= 0
    assert set(document["cache"]) == set(CacheStats().as_dict())
    assert document["cache"]["max_size"] == CacheSettings().max_size


def test_presigned_get_answers_too(daemon: DaemonThread) -> None:
    status, _, body = signed_get(status_url(daemon), presign_expires=60)
    assert status == 200, body
    assert "cache" in json.loads(body)


def test_unsigned_is_refused_with_s3_error_xml(daemon: DaemonThread) -> None:
    status, headers, body = send("GET", status_url(daemon), {})
    assert status == 403
    assert headers["content-type"] == "application/xml"
    assert s3_error_code(body) == "AccessDenied"
    request_id = headers["x-amz-request-id"]
    assert f"<RequestId>{request_id}</RequestId>".encode() in body
    assert b"<Resource>/_s3d/status</Resource>" in body


@pytest.mark.parametrize(
    ("key", "secret", "code"),
    [
        ("S3DUNKNOWNKEY0000001", "whatever", "InvalidAccessKeyId"),
        (ACCESS_KEY, "not-the-secret", "SignatureDoesNotMatch"),
    ],
)
def test_a_wrong_key_is_refused(daemon: DaemonThread, key: str, secret: str, code: str) -> None:
    status, headers, body = signed_get(status_url(daemon), key=key, secret=secret)
    assert (status, s3_error_code(body)) == (403, code)
    assert headers["x-amz-request-id"]
    assert b"not-the-secret" not in body


def test_commands_are_looked_up_only_once_authenticated(daemon: DaemonThread) -> None:
    unsigned, _, body = send("GET", status_url(daemon, "/_s3d/nothing-here"), {})
    assert (unsigned, s3_error_code(body)) == (403, "AccessDenied")
    status, _, body = signed_get(status_url(daemon, "/_s3d/nothing-here"))
    assert (status, s3_error_code(body)) == (404, "NoSuchAdminCommand")
    url, headers = sign("POST", status_url(daemon))
    status, answered, body = send("POST", url, headers)
    assert (status, s3_error_code(body)) == (405, "MethodNotAllowed")
    assert answered["allow"] == "GET"


def test_a_virtual_hosted_request_for_the_path_goes_to_s3(
    daemon: DaemonThread, bucket: str
) -> None:
    port = urllib.parse.urlsplit(daemon.endpoint_url).port

    def vhost_get(name: str) -> tuple[int, bytes]:
        host = f"{name}.{BASE_DOMAIN}:{port}"
        _, headers = sign("GET", f"http://{host}/_s3d/status", headers={"Host": host})
        status, _, body = send("GET", status_url(daemon), headers)  # Host says the bucket
        return status, body

    status, body = vhost_get(bucket)
    assert (status, s3_error_code(body)) == (404, "NoSuchKey"), body
    assert b"<Key>_s3d/status</Key>" in body
    status, body = vhost_get("no-such-bucket-admin")
    assert (status, s3_error_code(body)) == (404, "NoSuchBucket"), body


def test_path_style_bucket_requests_are_unaffected(daemon: DaemonThread, bucket: str) -> None:
    s3 = client(daemon.endpoint_url)
    s3.put_object(Bucket=bucket, Key="_s3d/status", Body=b"an ordinary key")
    status, _, body = signed_get(f"{daemon.endpoint_url}/{bucket}/_s3d/status")
    assert (status, body) == (200, b"an ordinary key")
    status, _, body = signed_get(f"{daemon.endpoint_url}/{bucket}?list-type=2")
    assert status == 200
    assert b"<Key>_s3d/status</Key>" in body
    # "/_s3d" alone names a bucket, which it cannot be: answered as S3 answered it before.
    status, _, body = signed_get(f"{daemon.endpoint_url}/_s3d")
    assert (status, s3_error_code(body)) == (400, "InvalidBucketName")


def test_admin_requests_are_access_logged(
    daemon: DaemonThread, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="s3d.access"):
        _, ok_headers, _ = signed_get(status_url(daemon))
        _, refused_headers, _ = send("GET", status_url(daemon), {})
    by_id = {r.request_id: r.__dict__ for r in caplog.records if r.name == "s3d.access"}
    ok = by_id[ok_headers["x-amz-request-id"]]
    assert (ok["path"], ok["status"], ok["action"], ok["principal"]) == (
        "/_s3d/status",
        200,
        "s3d:GetStatus",
        ACCESS_KEY,
    )
    assert ok["bytes"] > 0
    refused = by_id[refused_headers["x-amz-request-id"]]
    assert (refused["path"], refused["status"], refused["principal"]) == (
        "/_s3d/status",
        403,
        "-",
    )


def test_anonymous_status_only_where_configured(
    remote_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = daemon_settings(remote_url, tmp_path_factory.mktemp("anon"), anonymous="read")
    with DaemonThread(settings) as daemon:
        status, _, body = send("GET", status_url(daemon), {})
        assert status == 200
        assert "cache" in json.loads(body)
        # "read" is GET and HEAD only: a POST to the admin endpoint still needs a signature.
        status, _, body = send("POST", status_url(daemon), {})
        assert (status, s3_error_code(body)) == (403, "AccessDenied")


def test_write_back_status_has_the_journal_section(
    remote_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = daemon_settings(remote_url, tmp_path_factory.mktemp("wb"), mode="write-back")
    with DaemonThread(settings) as daemon:
        status, _, body = signed_get(status_url(daemon))
        flushed, _, flush_body = post(daemon, "/_s3d/flush?wait=1")  # type: ignore[arg-type]
    assert status == 200, body
    journal = json.loads(body)["journal"]
    assert journal["mode"] == "write-back"
    assert {"queue", "pending_bytes", "dead_letters", "dead", "uploaded"} <= set(journal)
    assert flushed == 200, flush_body
    assert json.loads(flush_body) == {"idle": True, "journal": journal | {"uploading": 0}}


# The journal's commands, over a fake journal (see the module doc).


class FakeJournal:
    """A ``JournalControl``: ``queue`` changes waiting and dead letters ``dead``; a flush with
    a wait uploads everything, one without leaves the queue as it is."""

    def __init__(self) -> None:
        self.queue = 3
        self.dead = {4, 5, 6}
        self.calls: list[tuple[str, object]] = []

    def flush_now(self) -> None:
        self.calls.append(("flush_now", None))

    async def wait_idle(self, seconds: float | None) -> bool:
        self.calls.append(("wait_idle", seconds))
        if seconds:
            await asyncio.sleep(0.01)
            self.queue = 0
        return self.queue == 0

    async def retry(self, seqs: list[int] | None) -> int:
        self.calls.append(("retry", seqs))
        return self._take(seqs)

    async def discard(self, seqs: list[int] | None) -> int:
        self.calls.append(("discard", seqs))
        return self._take(seqs)

    async def forget_remote_uploads(self, upload_ids: list[str] | None) -> int:
        self.calls.append(("forget", upload_ids))
        return 1

    def status(self) -> dict[str, object]:
        return {"mode": "write-back", "queue": self.queue, "dead_letters": len(self.dead)}

    def _take(self, seqs: list[int] | None) -> int:
        chosen = set(self.dead) if seqs is None else self.dead & set(seqs)
        self.dead -= chosen
        return len(chosen)


class AdminServer:
    """The real app (S3 handler over the moto remote, admin handler) serving the admin routes
    built for ``journal``, on its own thread and event loop like ``DaemonThread``."""

    def __init__(self, remote_url: str, data_dir: Path, journal: FakeJournal | None) -> None:
        self.settings = daemon_settings(remote_url, data_dir)
        self.journal = journal
        self.endpoint_url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> AdminServer:
        self._thread.start()
        assert self._ready.wait(60), "the admin server did not start"
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    async def _main(self) -> None:
        from aiohttp import web

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        auth = Authenticator({ACCESS_KEY: SECRET_KEY}, "off")
        routes = admin_routes(status=lambda: {"version": "test"}, journal=self.journal)
        async with (
            StagingArea(self.settings.data_dir / "staging") as staging,
            RemoteS3(self.settings.remote) as remote,
        ):
            s3 = S3Handler(Gateway(remote, staging), auth, (), 30.0)
            runner = web.AppRunner(build_app(s3, AdminHandler(routes, auth, ())), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.endpoint_url = f"http://{host}:{port}"
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()


@pytest.fixture
def journal() -> FakeJournal:
    return FakeJournal()


@pytest.fixture
def server(journal: FakeJournal, remote_url: str, tmp_path: Path) -> Iterator[AdminServer]:
    with AdminServer(remote_url, tmp_path, journal) as running:
        yield running


def post(server: AdminServer, path: str, **kwargs: object) -> tuple[int, dict[str, str], bytes]:
    """A signed POST of ``path`` as sent: percent-encoded (``id=1%2C2``), as botocore expects
    a URL to sign."""
    url, headers = sign("POST", server.endpoint_url + path, **kwargs)
    return send("POST", url, headers)


def post_json(server: AdminServer, path: str) -> object:
    status, headers, body = post(server, path)
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    return json.loads(body)


def test_flush_without_wait_answers_at_once(server: AdminServer, journal: FakeJournal) -> None:
    answer = post_json(server, "/_s3d/flush")
    assert answer == {
        "idle": False,
        "journal": {"mode": "write-back", "queue": 3, "dead_letters": 3},
    }
    # flush_now first, then only a look at whether anything still waits
    assert journal.calls == [("flush_now", None), ("wait_idle", 0.0)]


def test_flush_with_wait_waits_for_the_queue(server: AdminServer, journal: FakeJournal) -> None:
    answer = post_json(server, "/_s3d/flush?wait=2.5")
    assert answer == {
        "idle": True,
        "journal": {"mode": "write-back", "queue": 0, "dead_letters": 3},
    }
    assert journal.calls == [("flush_now", None), ("wait_idle", 2.5)]
    assert post_json(server, "/_s3d/flush?wait=0")["idle"] is True  # type: ignore[index]
    assert post_json(server, "/_s3d/flush?wait=3600")["idle"] is True  # type: ignore[index]


def test_flush_presigned(server: AdminServer, journal: FakeJournal) -> None:
    # The presigned request's own X-Amz-* parameters are not taken for the command's.
    status, _, body = post(server, "/_s3d/flush?wait=1", presign_expires=60)
    assert status == 200, body
    assert json.loads(body)["idle"] is True
    assert journal.calls[-1] == ("wait_idle", 1.0)


@pytest.mark.parametrize(
    ("path", "argument"),
    [
        ("/_s3d/flush?wait=", "wait"),
        ("/_s3d/flush?wait=soon", "wait"),
        ("/_s3d/flush?wait=-1", "wait"),
        ("/_s3d/flush?wait=3600.5", "wait"),
        ("/_s3d/flush?wait=nan", "wait"),
        ("/_s3d/flush?wait=inf", "wait"),
        ("/_s3d/flush?wait=1&wait=2", "wait"),
        ("/_s3d/flush?wiat=10", "wiat"),
        ("/_s3d/journal/retry?id=", "id"),
        ("/_s3d/journal/retry?id=1%2C%2C2", "id"),
        ("/_s3d/journal/retry?id=0", "id"),
        ("/_s3d/journal/retry?id=-3", "id"),
        ("/_s3d/journal/retry?id=1.5", "id"),
        ("/_s3d/journal/retry?id=%D9%A3", "id"),  # an Arabic-Indic digit three: not ASCII
        ("/_s3d/journal/retry?id=99999999999999999999", "id"),
        ("/_s3d/journal/discard?id=abc", "id"),
        ("/_s3d/journal/discard?all", "all"),
    ],
)
def test_bad_query_values_are_invalid_arguments(
    server: AdminServer, journal: FakeJournal, path: str, argument: str
) -> None:
    status, headers, body = post(server, path)
    assert (status, s3_error_code(body)) == (400, "InvalidArgument"), body
    assert f"<ArgumentName>{argument}</ArgumentName>".encode() in body
    assert headers["x-amz-request-id"]
    assert journal.calls == []  # refused before the journal is asked anything
    assert journal.dead == {4, 5, 6}


def test_retry_and_discard_named_dead_letters(server: AdminServer, journal: FakeJournal) -> None:
    assert post_json(server, "/_s3d/journal/retry?id=5%2C4%2C5") == {"retried": 2}
    assert journal.calls == [("retry", [4, 5])]  # sorted, each once
    assert post_json(server, "/_s3d/journal/discard?id=6&id=%207") == {"discarded": 1}
    assert journal.calls[-1] == ("discard", [6, 7])
    assert post_json(server, "/_s3d/journal/retry?id=4") == {"retried": 0}
    assert journal.dead == set()


def test_retry_and_discard_all_without_ids(server: AdminServer, journal: FakeJournal) -> None:
    assert post_json(server, "/_s3d/journal/retry") == {"retried": 3}
    assert journal.calls == [("retry", None)]
    journal.dead = {9}
    assert post_json(server, "/_s3d/journal/discard") == {"discarded": 1}
    assert journal.calls[-1] == ("discard", None)


def test_journal_commands_are_posts_and_signed(server: AdminServer, journal: FakeJournal) -> None:
    status, headers, body = signed_get(server.endpoint_url + "/_s3d/flush")
    assert (status, s3_error_code(body)) == (405, "MethodNotAllowed")
    assert headers["allow"] == "POST"
    unsigned, _, body = send("POST", server.endpoint_url + "/_s3d/journal/discard", {})
    assert (unsigned, s3_error_code(body)) == (403, "AccessDenied")
    wrong, _, body = post(server, "/_s3d/journal/discard", secret="not-the-secret")
    assert (wrong, s3_error_code(body)) == (403, "SignatureDoesNotMatch")
    assert journal.calls == []
    assert journal.dead == {4, 5, 6}


def test_journal_commands_are_access_logged(
    server: AdminServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="s3d.access"):
        answers = [
            post(server, "/_s3d/flush?wait=1"),
            post(server, "/_s3d/journal/retry?id=4"),
            post(server, "/_s3d/journal/discard"),
            post(server, "/_s3d/journal/discard?id=x"),
        ]
    by_id = {r.request_id: r.__dict__ for r in caplog.records if r.name == "s3d.access"}
    logged = [by_id[headers["x-amz-request-id"]] for _, headers, _ in answers]
    assert [(r["method"], r["path"], r["status"], r["action"], r["principal"]) for r in logged] == [
        ("POST", "/_s3d/flush", 200, "s3d:FlushJournal", ACCESS_KEY),
        ("POST", "/_s3d/journal/retry", 200, "s3d:RetryDeadLetters", ACCESS_KEY),
        ("POST", "/_s3d/journal/discard", 200, "s3d:DiscardDeadLetters", ACCESS_KEY),
        ("POST", "/_s3d/journal/discard", 400, "s3d:DiscardDeadLetters", ACCESS_KEY),
    ]


def test_write_through_has_no_journal_commands(
    remote_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("write-through")
    settings = daemon_settings(remote_url, data_dir, mode="write-through")
    with DaemonThread(settings) as daemon:
        answers = {
            path: post(daemon, path)  # type: ignore[arg-type]
            for path in ("/_s3d/flush", "/_s3d/flush?wait=5", "/_s3d/journal/retry?id=1")
        }
        answers["GET /_s3d/journal/discard"] = signed_get(
            status_url(daemon, "/_s3d/journal/discard")
        )
        status, _, body = signed_get(status_url(daemon))
    for status_code, headers, answer in answers.values():
        assert (status_code, s3_error_code(answer)) == (404, "NoSuchAdminCommand"), answer
        assert b"s3d runs write-through" in answer
        assert headers["x-amz-request-id"]
    assert status == 200
    assert json.loads(body)["journal"] == {"mode": "write-through"}
