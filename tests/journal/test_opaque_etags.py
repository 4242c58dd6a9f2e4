"""Write-back in front of a remote whose ETags are not MD5s (S3 under s3d's SSE-C key): the
upload is not refused for it, the mapping acknowledged → remote ETag is recorded (log, the
cache entry handed over, the DRS catalogue), and the object stays readable and resolvable.

moto gives MD5 ETags even for SSE-C objects, so the relay in front of it stands in for S3
here: it answers other, stable ETags and maps them back in conditional requests."""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    ACCESS_KEY,
    SECRET_KEY,
    CountingRelay,
    DaemonThread,
    client,
    daemon_settings,
    send,
)

MiB = 1 << 20
BASIC = "Basic " + base64.b64encode(f"{ACCESS_KEY}:{SECRET_KEY}".encode()).decode()


@pytest.fixture
def relay(remote_url: str) -> Iterator[CountingRelay]:
    with CountingRelay(remote_url) as running:
        running.opaque_etags = True
        yield running


@pytest.fixture
def daemon(relay: CountingRelay, tmp_path: Path) -> Iterator[DaemonThread]:
    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(os.urandom(32))
    settings = daemon_settings(relay.url, tmp_path / "data", mode="write-back")
    settings = replace(
        settings,
        remote=replace(settings.remote, sse_customer_key_file=key_file),
        journal=replace(settings.journal, multipart_threshold=5 * MiB, part_size=5 * MiB),
    )
    with DaemonThread(settings) as running:
        yield running


def idle(daemon: DaemonThread) -> dict[str, Any]:
    assert daemon.daemon is not None
    journal = daemon.daemon.journal
    assert journal is not None
    assert daemon.call(journal.wait_idle(60))
    return journal.status()


def test_uploads_succeed_and_the_mapping_is_recorded(
    daemon: DaemonThread, relay: CountingRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="s3d.journal")
    s3 = client(daemon.endpoint_url)
    bucket = f"opq-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    small, large = os.urandom(4096), os.urandom(11 * MiB)
    acknowledged = s3.put_object(Bucket=bucket, Key="small", Body=small)["ETag"]
    s3.put_object(Bucket=bucket, Key="large", Body=large)  # parts' ETags are not MD5s either
    status = idle(daemon)
    assert status["dead_letters"] == 0, [d.get("error") for d in status["dead"]]
    remote_etag = relay.etags[acknowledged]
    assert f"acknowledged with ETag {acknowledged}, the remote gave it {remote_etag}" in caplog.text

    # The cache entry handed over carries the remote's ETag: it revalidates against it.
    got = s3.get_object(Bucket=bucket, Key="small")
    assert got["Body"].read() == small
    assert got["ETag"] == remote_etag
    assert s3.get_object(Bucket=bucket, Key="large")["Body"].read() == large

    # The DRS record was re-tagged: its access URL is handed out and downloads the bytes.
    assert daemon.daemon is not None
    assert daemon.daemon.gateway is not None
    assert daemon.daemon.gateway.feed is not None
    daemon.call(daemon.daemon.gateway.feed.idle())
    api = f"{daemon.endpoint_url}/ga4gh/drs/v1"
    import hashlib

    status_code, _, raw = send(
        "GET",
        f"{api}/objects/checksum/{hashlib.sha256(small).hexdigest()}",
        {"Authorization": BASIC},
    )
    assert status_code == 200, raw
    [document] = json.loads(raw)["resolved_drs_object"]
    access_id = document["access_methods"][0]["access_id"]
    status_code, _, raw = send(
        "GET", f"{api}/objects/{document['id']}/access/{access_id}", {"Authorization": BASIC}
    )
    assert status_code == 200, raw
    assert send("GET", json.loads(raw)["url"], {})[2] == small
