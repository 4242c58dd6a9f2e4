"""Sync folder test helpers: a daemon in write-back with SSE-C whose remote is reached through
a recording relay, and bounded waits."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from s3d.settings import Settings, SyncFolder, SyncSettings
from tests.support import CountingRelay, daemon_settings, send, sign

SSE_KEY = os.urandom(32)
SSE_KEY_MD5 = base64.b64encode(hashlib.md5(SSE_KEY).digest()).decode()


def sync_settings(relay_url: str, tmp_path: Path, *folders: SyncFolder) -> Settings:
    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(base64.b64encode(SSE_KEY))
    settings = daemon_settings(relay_url, tmp_path / "data", mode="write-back")
    return replace(
        settings,
        remote=replace(settings.remote, sse_customer_key_file=key_file),
        sync=SyncSettings(folders=folders, rescan_interval=0.0),
    )


def wait_until(predicate: Callable[[], object], seconds: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        time.sleep(0.05)


def puts_of(relay: CountingRelay, bucket: str, key: str) -> list[bytes]:
    """Bodies of the PUTs of ``bucket/key`` that reached the remote (single puts and parts)."""
    path = f"/{bucket}/{key}"
    return [body for method, p, body in relay.writes if method == "PUT" and p == path]


def uploads_carry_sse_c(relay: CountingRelay, bucket: str) -> int:
    """How many uploads (PUTs, parts, multipart creations) of ``bucket`` reached the remote;
    AssertionError if one of them lacks s3d's SSE-C key."""
    prefix = "x-amz-server-side-encryption-customer-"
    uploads = [
        (p, h)
        for m, p, h in relay.headers
        if p.startswith(f"/{bucket}/") and (m == "PUT" or (m == "POST" and p.endswith("?uploads")))
    ]
    for path, headers in uploads:
        assert headers.get(prefix + "algorithm") == "AES256", path
        assert headers.get(prefix + "key-md5") == SSE_KEY_MD5, path
    return len(uploads)


def status(endpoint: str) -> dict[str, Any]:
    url, headers = sign("GET", f"{endpoint}/_s3d/status")
    code, _, body = send("GET", url, headers)
    assert code == 200, body
    document: dict[str, Any] = json.loads(body)
    return document


def folder_status(endpoint: str, directory: Path) -> dict[str, Any]:
    section: dict[str, Any] = status(endpoint)[f"sync {directory}"]
    return section


def remote_body(remote, bucket: str, key: str) -> bytes | None:  # type: ignore[no-untyped-def]
    """The object's bytes at the remote (moto), None when it has no such key."""
    try:
        return bytes(remote.get_object(Bucket=bucket, Key=key)["Body"].read())
    except remote.exceptions.NoSuchKey:
        return None
