"""The remote credential chain, each source exercised for real against local stand-ins: the
environment, a shared config profile with credential_process, the shared credentials file,
web identity against moto's STS (AssumeRoleWithWebIdentity), container credentials and EC2
instance metadata (IMDSv2: token PUT, then GETs) from local HTTP servers reached through
botocore's own endpoint variables. Then the order, the audit lines, refresh before expiry, and
that no secret reaches a log, the audit file or an error."""

from __future__ import annotations

import json
import logging
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from s3d.daemon.logs import configure_logging
from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchBucket
from s3d.remote.client import RemoteS3
from s3d.settings import LogSettings
from tests.remote.conftest import remote_settings
from tests.support import isolate_aws_env

SECRET = "s3cr3t-that-must-never-be-logged"
TOKEN = "session-token-that-must-never-be-logged"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_aws_env(monkeypatch, tmp_path)


def chain_settings(remote_url: str, tmp_path: Path, **changes: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "access_key_id": None,
        "secret_access_key": None,
        "credentials_audit_file": tmp_path / "audit.jsonl",
    }
    return remote_settings(remote_url, **(values | changes))


async def open_and_use(settings: Any) -> RemoteS3:
    """Open a RemoteS3, make a real call with it, close it; the closed client, for its
    resolution."""
    async with RemoteS3(settings) as remote:
        await remote.list_buckets(ops.ListBuckets())
    return remote


def audit_lines(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def use_credential_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile ``team`` (made current) gets temporary credentials, expiring in an hour,
    from a ``credential_process`` helper: key id ending 2222, ``SECRET`` and ``TOKEN``."""
    helper = tmp_path / "helper.py"
    document = {
        "Version": 1,
        "AccessKeyId": "AKIAPROCESS000002222",
        "SecretAccessKey": SECRET,
        "SessionToken": TOKEN,
        "Expiration": expiry(60),
    }
    helper.write_text(f"import json\nprint(json.dumps({document!r}))\n")
    config = tmp_path / "config"
    config.write_text(f"[profile team]\ncredential_process = {sys.executable} {helper}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "team")


def expiry(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Stand(ThreadingHTTPServer):
    """A local HTTP server answering from ``routes`` ((method, path) -> (status, body)), and
    recording every request's (method, path, headers)."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = routes
        self.seen: list[tuple[str, str, dict[str, str]]] = []

        stand = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                stand.seen.append((self.command, self.path, headers))
                route = stand.routes.get((self.command, self.path))
                status, body = route(self.headers) if callable(route) else (route or (404, ""))
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def stand() -> Iterator[Stand]:
    server = Stand({})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def container_document(key: str, minutes: float = 60) -> dict[str, str]:
    return {
        "AccessKeyId": key,
        "SecretAccessKey": SECRET,
        "Token": TOKEN,
        "Expiration": expiry(minutes),
    }


async def test_environment_variables(remote_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT01111")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    remote = await open_and_use(chain_settings(remote_url, tmp_path))
    assert remote.resolution.method == "env"
    assert remote.resolution.tried == [("env", "chosen")]
    [line] = audit_lines(tmp_path)
    assert line["event"] == "resolved"
    assert line["source"] == "env"
    assert line["key_id_suffix"] == "1111"
    assert line["expiry"] is None


async def test_a_profile_with_credential_process(remote_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    use_credential_process(tmp_path, monkeypatch)
    remote = await open_and_use(chain_settings(remote_url, tmp_path))
    assert remote.resolution.method == "custom-process"
    [line] = audit_lines(tmp_path)
    assert line["key_id_suffix"] == "2222"
    assert line["expiry"] is not None


async def test_the_shared_credentials_file(remote_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[default]\naws_access_key_id = AKIASHARED0000003333\naws_secret_access_key = {SECRET}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    remote = await open_and_use(chain_settings(remote_url, tmp_path))
    assert remote.resolution.method == "shared-credentials-file"
    assert audit_lines(tmp_path)[0]["key_id_suffix"] == "3333"


async def test_web_identity_against_moto_sts(remote_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    token_file = tmp_path / "token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")  # any JWT-shaped token
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/s3d-node")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", remote_url)  # moto's STS, same server
    remote = await open_and_use(chain_settings(remote_url, tmp_path))
    assert remote.resolution.method == "assume-role-with-web-identity"
    lines = audit_lines(tmp_path)
    assert lines[0]["event"] == "resolved", lines
    assert lines[0]["expiry"] is not None, lines  # temporary credentials from STS


async def test_container_credentials(remote_url, tmp_path, monkeypatch, stand) -> None:  # type: ignore[no-untyped-def]
    stand.routes[("GET", "/creds")] = (200, container_document("ASIACONTAINER0004444"))
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stand.url}/creds")
    remote = await open_and_use(chain_settings(remote_url, tmp_path))
    assert remote.resolution.method == "container-role"
    assert audit_lines(tmp_path)[0]["key_id_suffix"] == "4444"


def imds_routes(key: str, minutes: float = 60) -> dict[tuple[str, str], Any]:
    def token(headers: Any) -> tuple[int, str]:
        assert headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        return 200, "imds-session-token"

    def with_token(body: Any) -> Any:
        def answer(headers: Any) -> tuple[int, Any]:
            if headers.get("X-aws-ec2-metadata-token") != "imds-session-token":
                return 401, ""
            return 200, body

        return answer

    document = {"Code": "Success", "Type": "AWS-HMAC", **container_document(key, minutes)}
    return {
        ("PUT", "/latest/api/token"): token,
        ("GET", "/latest/meta-data/iam/security-credentials/"): with_token("s3d-node-role"),
        ("GET", "/latest/meta-data/iam/security-credentials/s3d-node-role"): with_token(document),
    }


async def test_instance_metadata_with_imdsv2(remote_url, tmp_path, monkeypatch, stand) -> None:  # type: ignore[no-untyped-def]
    stand.routes.update(imds_routes("ASIAINSTANCE00005555"))
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"{stand.url}/")
    remote = await open_and_use(chain_settings(remote_url, tmp_path))
    assert remote.resolution.method == "iam-role"
    assert audit_lines(tmp_path)[0]["key_id_suffix"] == "5555"
    methods = [method for method, _, _ in stand.seen]
    assert methods[0] == "PUT", stand.seen  # IMDSv2: a session token first
    gets = [(path, h) for m, path, h in stand.seen if m == "GET"]
    assert all(h.get("x-aws-ec2-metadata-token") for _, h in gets), gets


async def test_the_first_source_with_credentials_wins(
    remote_url, tmp_path, monkeypatch, stand
) -> None:  # type: ignore[no-untyped-def]
    stand.routes[("GET", "/creds")] = (200, container_document("ASIACONTAINER0006666"))
    stand.routes.update(imds_routes("ASIAINSTANCE00007777"))
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stand.url}/creds")
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"{stand.url}/")
    remote = await open_and_use(chain_settings(remote_url, tmp_path))
    tried = [method for method, _ in remote.resolution.tried]
    assert tried[0] == "env"
    assert tried[-1] == "container-role"  # before instance metadata: never asked
    assert "iam-role" not in tried
    assert all(outcome == "no credentials" for _, outcome in remote.resolution.tried[:-1])

    # With the environment set as well, it wins over both.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT08888")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    remote = await open_and_use(chain_settings(remote_url, tmp_path))
    assert remote.resolution.tried == [("env", "chosen")]

    # And credentials written in the configuration win over everything, with a warning.
    settings = chain_settings(
        remote_url, tmp_path, access_key_id="AKIACONFIGURED009999", secret_access_key=SECRET
    )
    remote = await open_and_use(settings)
    assert remote.resolution.method == "s3d-configuration"


async def test_expiring_credentials_are_refreshed_before_they_expire(
    remote_url, tmp_path, monkeypatch, stand
) -> None:  # type: ignore[no-untyped-def]
    # 14 minutes left: inside botocore's 15-minute advisory window, so each use renews them
    # (without failing the request), each renewal audited.
    served = iter(range(1, 100))

    def fresh(headers: Any) -> tuple[int, Any]:
        return 200, container_document(f"ASIAREFRESHED0000{next(served):03d}", minutes=14)

    stand.routes[("GET", "/creds")] = fresh
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stand.url}/creds")
    async with RemoteS3(chain_settings(remote_url, tmp_path)) as remote:
        for _ in range(3):
            await remote.list_buckets(ops.ListBuckets())
    lines = audit_lines(tmp_path)
    assert lines[0]["event"] == "resolved"
    refreshed = [line for line in lines if line["event"] == "refreshed"]
    assert refreshed, lines
    assert len(stand.seen) == 1 + len(refreshed)
    assert refreshed[0]["key_id_suffix"] != lines[0]["key_id_suffix"]


async def test_no_source_has_credentials_and_every_source_says_so(remote_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with RemoteS3(chain_settings(remote_url, tmp_path)) as remote:
        resolution = remote.resolution
    assert resolution.credentials is None
    tried = [method for method, _ in resolution.tried]
    assert tried[0] == "env"
    assert "container-role" in tried
    assert tried[-1] == "iam-role"
    assert "environment variables (AWS_ACCESS_KEY_ID): no credentials" in resolution.tried_text()


async def test_no_secret_in_logs_audit_or_errors(
    remote_url, tmp_path, monkeypatch, stand, capsys
) -> None:  # type: ignore[no-untyped-def]
    # s3d's own logging at its most verbose, as `s3d serve --log-level debug` sets it up.
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in ("botocore", "aiobotocore")}
    configure_logging(LogSettings(format="json", level="debug"))
    stand.routes[("GET", "/creds")] = (200, container_document("ASIACONTAINER0001234", 14))
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stand.url}/creds")
    try:
        async with RemoteS3(chain_settings(remote_url, tmp_path)) as remote:
            await remote.list_buckets(ops.ListBuckets())
            with pytest.raises(NoSuchBucket) as failed:
                await remote.head_bucket(ops.HeadBucket(f"missing-{uuid.uuid4().hex[:8]}"))
    finally:
        root.handlers[:], root.level = saved
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    logged = capsys.readouterr().err
    assert "remote credentials resolved from container credentials" in logged
    text = logged + (tmp_path / "audit.jsonl").read_text() + str(failed.value)
    for secret in (SECRET, TOKEN, "ASIACONTAINER0001234"):
        assert secret not in text
