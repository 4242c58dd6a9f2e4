"""The multipart writer of the write-back journal under injected failures: a relay in front of
moto fails one part, or lets CompleteMultipartUpload through and drops its answer (the remote
completed the upload; s3d never learns it from the answer).

An 11 MiB PUT through s3d with multipart_threshold and part_size at S3's 5 MiB minimum goes
up as three parts (5, 5 and 1 MiB: parts of at least 5 MiB except the last)."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.support import CountingRelay, DaemonThread, Fault, client, daemon_settings

MiB = 1 << 20
SIZE = 11 * MiB


@pytest.fixture
def daemon(relay: CountingRelay, tmp_path: Path) -> Iterator[DaemonThread]:
    settings = daemon_settings(relay.url, tmp_path, mode="write-back")
    journal = replace(settings.journal, multipart_threshold=5 * MiB, part_size=5 * MiB)
    with DaemonThread(replace(settings, journal=journal)) as running:
        yield running


def journal(daemon: DaemonThread) -> Any:
    assert daemon.daemon is not None
    assert daemon.daemon.journal is not None
    return daemon.daemon.journal


def wait_until(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def put_large(daemon: DaemonThread, bucket: str) -> tuple[bytes, str]:
    s3 = client(daemon.endpoint_url)
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(SIZE)
    etag = s3.put_object(Bucket=bucket, Key="big", Body=data)["ETag"]
    return data, etag


def remote_state(remote_url: str, bucket: str) -> tuple[bytes, str, list[Any]]:
    remote = client(remote_url, key="remote-access-key-id", secret="remote-secret")
    got = remote.get_object(Bucket=bucket, Key="big")
    open_uploads = remote.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return got["Body"].read(), got["ETag"], open_uploads


def test_a_lost_completion_answer_is_settled_by_the_remote_object(
    daemon: DaemonThread, relay: CountingRelay, remote_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="s3d.journal")
    # CompleteMultipartUpload: the remote completes it, every answer is dropped (botocore's
    # and the HTTP client's own retries included), so s3d can only learn the outcome from
    # the object.
    lost = Fault("POST", "uploadId=", times=1000)
    relay.inject(lost)
    bucket = f"mpw-{uuid.uuid4().hex[:12]}"
    data, etag = put_large(daemon, bucket)
    assert etag.endswith('-3"')  # three parts, as the remote will have them
    assert daemon.call(journal(daemon).wait_idle(60))
    status = journal(daemon).status()
    assert status["dead_letters"] == 0
    body, remote_etag, open_uploads = remote_state(remote_url, bucket)
    assert body == data
    assert remote_etag == etag
    assert open_uploads == []
    assert lost.times < 1000  # the answers really were dropped
    assert "settled by its ETag on the remote" in caplog.text


def test_a_part_refused_aborts_the_upload_and_dead_letters_the_change(
    daemon: DaemonThread, relay: CountingRelay, remote_url: str
) -> None:
    refusal = Fault("PUT", "partNumber=2", times=1000, status=403, code="AccessDenied")
    relay.inject(refusal)
    bucket = f"mpw-{uuid.uuid4().hex[:12]}"
    data, _ = put_large(daemon, bucket)
    wait_until(lambda: journal(daemon).status()["dead_letters"] == 1)
    [dead] = journal(daemon).status()["dead"]
    assert "AccessDenied" in str(dead)
    aborts = [p for m, p, _ in relay.headers if m == "DELETE" and "uploadId=" in p]
    assert aborts  # the remote's upload was aborted, not left to bill parts
    remote = client(remote_url, key="remote-access-key-id", secret="remote-secret")
    assert remote.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    refusal.times = 0  # the permission is fixed: retry the dead letter
    assert daemon.call(journal(daemon).retry(None)) == 1
    assert daemon.call(journal(daemon).wait_idle(60))
    body, _, open_uploads = remote_state(remote_url, bucket)
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    assert open_uploads == []


def test_a_part_failing_once_is_retried(
    daemon: DaemonThread, relay: CountingRelay, remote_url: str
) -> None:
    failure = Fault("PUT", "partNumber=1", times=1, status=500)
    relay.inject(failure)
    bucket = f"mpw-{uuid.uuid4().hex[:12]}"
    data, etag = put_large(daemon, bucket)
    assert daemon.call(journal(daemon).wait_idle(60))
    assert journal(daemon).status()["dead_letters"] == 0
    body, remote_etag, _ = remote_state(remote_url, bucket)
    assert body == data
    assert remote_etag == etag
    assert failure.times == 0  # the part did fail once
