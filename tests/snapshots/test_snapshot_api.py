"""The snapshot endpoints with a real daemon (write-back), a real moto remote behind a relay,
real HTTP clients (http.client, boto3's signer), and real gpg."""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from s3d.settings import SnapshotSettings
from tests.support import (
    ACCESS_KEY,
    SECRET_KEY,
    CountingRelay,
    DaemonThread,
    client,
    daemon_settings,
    send,
    sign,
)

TOKEN = "snapshot-reader-token-0123456789"
PASSPHRASE = "correct horse battery staple"
NAMED_BUCKET = f"snap-named-{uuid.uuid4().hex[:8]}"
BASIC = "Basic " + base64.b64encode(f"{ACCESS_KEY}:{SECRET_KEY}".encode()).decode()


@pytest.fixture(scope="module")
def relay(remote_url: str) -> Iterator[CountingRelay]:
    with CountingRelay(remote_url) as running:
        yield running


@pytest.fixture(scope="module")
def daemon(
    relay: CountingRelay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DaemonThread]:
    directory = tmp_path_factory.mktemp("snapshots")
    (directory / "tokens").write_text(f"# readers\n{TOKEN}\n")
    (directory / "passphrase").write_text(PASSPHRASE + "\n")
    settings = daemon_settings(relay.url, directory / "data", mode="write-back")
    snapshots = SnapshotSettings(
        bearer_tokens_file=directory / "tokens",
        passphrase_file=directory / "passphrase",
        sets=(f"nightly={NAMED_BUCKET}/db/",),
    )
    with DaemonThread(replace(settings, snapshots=snapshots)) as running:
        yield running


@pytest.fixture
def bucket(remote) -> str:  # type: ignore[no-untyped-def]
    name = f"snap-{uuid.uuid4().hex[:12]}"
    remote.create_bucket(Bucket=name)
    return name


def get(
    daemon: DaemonThread, path: str, authorization: str | None = BASIC
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": authorization} if authorization else {}
    return send("GET", f"{daemon.endpoint_url}/_s3d/snapshots/{path}", headers)


def listed(daemon: DaemonThread, path: str) -> list[dict[str, Any]]:
    status, _, body = get(daemon, path)
    assert status == 200, body
    snapshots: list[dict[str, Any]] = json.loads(body)["snapshots"]
    return snapshots


def test_latest_is_by_the_key_timestamp_not_last_modified(
    daemon: DaemonThread, remote, bucket: str
) -> None:
    # The newest backup (by its name) is written first; an old one is re-uploaded (moved)
    # afterwards, so its LastModified is the newest.
    remote.put_object(Bucket=bucket, Key="db/app-2026-12-03T02:00:00Z.sql", Body=b"newest")
    time.sleep(1.1)
    remote.put_object(Bucket=bucket, Key="db/app-2026-11-30T02:00:00Z.sql", Body=b"moved")
    remote.put_object(Bucket=bucket, Key="db/app-20261201T020000Z.sql", Body=b"middle")
    snapshots = listed(daemon, f"{bucket}/db/")
    assert [s["name"] for s in snapshots] == [
        "app-2026-12-03T02:00:00Z.sql",
        "app-20261201T020000Z.sql",
        "app-2026-11-30T02:00:00Z.sql",
    ]
    assert snapshots[0]["time"] == "2026-12-03T02:00:00Z"
    assert {s["time_source"] for s in snapshots} == {"key"}
    status, _, body = get(daemon, f"{bucket}/db/latest")
    assert (status, body) == (200, b"newest")
    status, _, body = get(daemon, f"{bucket}/db/app-20261201T020000Z.sql")
    assert (status, body) == (200, b"middle")
    assert get(daemon, f"{bucket}/db/nope.sql")[0] == 404


def test_variants(daemon: DaemonThread, remote, bucket: str) -> None:
    for key in ("2026-12-01-full.sql", "2026-12-01-reduced.sql", "2026-12-02-reduced.sql"):
        remote.put_object(Bucket=bucket, Key=f"backups/{key}", Body=key.encode())
    variants = [(s["name"], s["variant"]) for s in listed(daemon, f"{bucket}/backups/")]
    assert variants == [
        ("2026-12-02-reduced.sql", "reduced"),
        ("2026-12-01-reduced.sql", "reduced"),
        ("2026-12-01-full.sql", "full"),
    ]
    assert get(daemon, f"{bucket}/backups/latest?variant=full")[2] == b"2026-12-01-full.sql"
    assert get(daemon, f"{bucket}/backups/latest")[2] == b"2026-12-02-reduced.sql"
    assert get(daemon, f"{bucket}/backups/latest?variant=partial")[0] == 404


def test_a_pending_snapshot_is_listed_and_served(
    daemon: DaemonThread, relay: CountingRelay, remote, bucket: str
) -> None:
    s3 = client(daemon.endpoint_url)
    remote.put_object(Bucket=bucket, Key="db/2026-12-01.sql", Body=b"old")
    relay.hold_writes(True)
    try:
        data = os.urandom(300_000)
        s3.put_object(Bucket=bucket, Key="db/2026-12-04.sql", Body=data)
        assert "Contents" not in remote.list_objects_v2(Bucket=bucket, Prefix="db/2026-12-04")
        assert listed(daemon, f"{bucket}/db/")[0]["name"] == "2026-12-04.sql"
        status, _, body = get(daemon, f"{bucket}/db/latest")
        assert status == 200
        assert body == data
    finally:
        relay.hold_writes(False)


def test_authentication(
    daemon: DaemonThread, remote, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="s3d.snapshots")
    remote.put_object(Bucket=bucket, Key="db/2026-12-01.sql", Body=b"dump")
    path = f"{bucket}/db/latest"
    status, headers, _ = get(daemon, path, None)
    assert status == 401
    assert "Basic" in headers["www-authenticate"]
    wrong = "Basic " + base64.b64encode(f"{ACCESS_KEY}:not-the-secret".encode()).decode()
    assert get(daemon, path, wrong)[0] == 401
    assert get(daemon, path, "Bearer not-a-token")[0] == 401
    assert get(daemon, path, f"Bearer {TOKEN}")[2] == b"dump"
    url = f"{daemon.endpoint_url}/_s3d/snapshots/{path}"
    signed_url, signed = sign("GET", url)
    assert send("GET", signed_url, signed)[2] == b"dump"
    forged_url, forged = sign("GET", url, secret="not-the-secret")
    assert send("GET", forged_url, forged)[0] == 403
    # Each download logged: who, and which snapshot (never a secret).
    downloads = [r.getMessage() for r in caplog.records if "snapshot download by" in r.message]
    where = f"s3://{bucket}/db/2026-12-01.sql"
    assert any(m.startswith(f"snapshot download by bearer: {where}") for m in downloads)
    assert any(m.startswith(f"snapshot download by {ACCESS_KEY}: {where}") for m in downloads)
    assert not any(SECRET_KEY in m or TOKEN in m for m in downloads)


# -- OpenPGP ---------------------------------------------------------------------------------


def gpg_encrypt(plain: bytes, home: Path) -> bytes:
    home.mkdir(mode=0o700, exist_ok=True)
    result = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
         "--passphrase", PASSPHRASE, "--symmetric", "--cipher-algo", "AES256",
         "--compress-algo", "none", "--output", "-"],
        input=plain, capture_output=True, check=True,
    )  # fmt: skip
    # gpg started an agent for that home directory: stop it, as the test's other servers are.
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=True)
    return result.stdout


def stream(daemon: DaemonThread, path: str) -> tuple[int, bytes, BaseException | None]:
    """GET with http.client, reading the body to its end or to the break of the transfer."""
    parts = urllib.parse.urlsplit(f"{daemon.endpoint_url}/_s3d/snapshots/{path}")
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        conn.request("GET", parts.path, headers={"Authorization": BASIC})
        response = conn.getresponse()
        received = b""
        try:
            while chunk := response.read1(1 << 20):
                received += chunk
        except (http.client.IncompleteRead, ConnectionError) as broken:
            return response.status, received, broken
        return response.status, received, None
    finally:
        conn.close()


def test_an_openpgp_snapshot_is_decrypted_in_the_stream(
    daemon: DaemonThread, remote, bucket: str, tmp_path: Path
) -> None:
    plain = os.urandom(3 << 20)
    remote.put_object(
        Bucket=bucket, Key="pg/2026-12-04.sql.gpg", Body=gpg_encrypt(plain, tmp_path / "g")
    )
    status, body, broken = stream(daemon, f"{bucket}/pg/latest")
    assert broken is None
    assert status == 200
    assert body == plain


def test_a_tampered_ciphertext_aborts_the_response(
    daemon: DaemonThread, remote, bucket: str, tmp_path: Path
) -> None:
    plain = os.urandom(3 << 20)
    cipher = bytearray(gpg_encrypt(plain, tmp_path / "g"))
    cipher[len(cipher) // 2] ^= 0x01
    remote.put_object(Bucket=bucket, Key="pg/2026-12-04.sql.gpg", Body=bytes(cipher))
    status, body, broken = stream(daemon, f"{bucket}/pg/latest")
    assert status == 200  # the stream had begun when gpg's integrity check failed at the end
    assert broken is not None  # the transfer is cut: no final chunk
    assert len(body) < len(plain)  # the tail was held back


# -- the command line ------------------------------------------------------------------------


def cli(daemon: DaemonThread, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The real ``s3d`` command line against ``daemon``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3D_")}
    return subprocess.run(
        [
            sys.executable, "-m", "s3d", "snapshots", *args,
            "--endpoint", daemon.endpoint_url,
            "--access-key", f"{ACCESS_KEY}:{SECRET_KEY}",
        ],
        capture_output=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_cli_lists_and_gets(daemon: DaemonThread, remote, bucket: str, tmp_path: Path) -> None:
    remote.put_object(Bucket=bucket, Key="db/2026-12-01-full.sql", Body=b"one")
    remote.put_object(Bucket=bucket, Key="db/2026-12-02-reduced.sql", Body=b"two")
    listing = cli(daemon, "ls", f"s3://{bucket}/db")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.decode().splitlines()
    assert lines[0].endswith("2026-12-02-reduced.sql")
    assert lines[1].endswith("2026-12-01-full.sql")
    assert lines[-1] == "2 snapshots"
    got = cli(daemon, "get", f"s3://{bucket}/db/", "latest", "--variant", "full")
    assert (got.returncode, got.stdout) == (0, b"one")
    target = tmp_path / "dump.sql"
    assert cli(daemon, "get", f"s3://{bucket}/db/", "-o", str(target)).returncode == 0
    assert target.read_bytes() == b"two"
    missing = cli(daemon, "get", f"s3://{bucket}/db/", "nope.sql")
    assert missing.returncode == 1
    assert b"404" in missing.stderr


def test_cli_leaves_no_file_when_the_daemon_aborts(
    daemon: DaemonThread, remote, bucket: str, tmp_path: Path
) -> None:
    cipher = bytearray(gpg_encrypt(os.urandom(2 << 20), tmp_path / "g"))
    cipher[len(cipher) // 2] ^= 0x01
    remote.put_object(Bucket=bucket, Key="pg/2026-12-04.sql.gpg", Body=bytes(cipher))
    target = tmp_path / "dump.sql"
    result = cli(daemon, "get", f"s3://{bucket}/pg/", "-o", str(target))
    assert result.returncode == 1
    assert not target.exists()
    assert not target.with_name("dump.sql.part").exists()


def test_a_completion_marker_is_no_snapshot_and_gives_its_time(
    daemon: DaemonThread, remote, bucket: str
) -> None:
    remote.put_object(Bucket=bucket, Key="exp/weekly.sql", Body=b"the dump")
    remote.put_object(Bucket=bucket, Key="exp/weekly.sql.done", Body=b"")  # written last
    [only] = listed(daemon, f"{bucket}/exp/")
    assert (only["name"], only["time_source"]) == ("weekly.sql", "marker")
    status, _, body = get(daemon, f"{bucket}/exp/latest")
    assert (status, body) == (200, b"the dump")


def test_a_named_set_stands_for_its_bucket_and_prefix(daemon: DaemonThread, remote) -> None:
    remote.create_bucket(Bucket=NAMED_BUCKET)
    remote.put_object(Bucket=NAMED_BUCKET, Key="db/2026-12-03.sql", Body=b"older")
    remote.put_object(Bucket=NAMED_BUCKET, Key="db/2026-12-04.sql", Body=b"newest")
    remote.put_object(Bucket=NAMED_BUCKET, Key="other/2026-12-05.sql", Body=b"not in the set")
    names = [s["name"] for s in listed(daemon, "nightly/")]
    assert names == ["2026-12-04.sql", "2026-12-03.sql"]
    assert get(daemon, "nightly/latest")[::2] == (200, b"newest")
    assert get(daemon, "nightly/2026-12-03.sql")[::2] == (200, b"older")
    # The bucket itself is still reachable by its own name.
    assert get(daemon, f"{NAMED_BUCKET}/other/latest")[::2] == (200, b"not in the set")
