"""Abandoned local multipart uploads: given up to make room for writes, and after
``journal.upload_expiry`` (by the sweeper, and at once after a restart). A real daemon in
write-back against a real moto remote behind a relay that holds writes, so that what was
acknowledged stays pending."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3d.journal.expiry import idle
from s3d.journal.service import Journal
from tests.journal.test_writeback import KiB, MiB, new_bucket, status, writeback
from tests.support import DaemonThread, client

SMALL_VOLUME = {"max_size": 1 * MiB}


def journal_of(daemon: DaemonThread) -> Journal:
    journal = daemon.daemon.journal  # type: ignore[union-attr]
    assert journal is not None
    return journal


def abandoned(s3, bucket: str, key: str, size: int) -> str:  # type: ignore[no-untyped-def]
    """An upload with one part of ``size`` bytes, left as it is."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=os.urandom(size))
    return str(upload_id)


def error_code(call, **arguments: object) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as exc:
        call(**arguments)
    return str(exc.value.response["Error"]["Code"])


def assert_gone(s3, bucket: str, key: str, upload_id: str) -> None:  # type: ignore[no-untyped-def]
    where = {"Bucket": bucket, "Key": key, "UploadId": upload_id}
    assert error_code(s3.list_parts, **where) == "NoSuchUpload"
    assert error_code(s3.upload_part, PartNumber=2, Body=b"x", **where) == "NoSuchUpload"
    layout = {"Parts": [{"PartNumber": 1, "ETag": '"00"'}]}
    assert error_code(s3.complete_multipart_upload, MultipartUpload=layout, **where) == (
        "NoSuchUpload"
    )


def wait_until_idle(daemon: DaemonThread, seconds: float) -> None:
    """Bounded wait until every local upload has been idle for ``seconds``."""
    multipart = journal_of(daemon).multipart
    deadline = time.monotonic() + 30
    while min(idle(u, time.time()) for u in multipart.uploads.values()) < seconds:
        assert time.monotonic() < deadline, "the uploads never became idle"
        time.sleep(0.1)


def test_idle_uploads_are_given_up_to_make_room(relay, remote, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="s3d.journal")
    bucket = new_bucket(remote)
    relay.hold_writes(True)
    with writeback(relay.url, tmp_path, SMALL_VOLUME, upload_reclaim_idle=3600.0) as daemon:
        s3 = client(daemon.endpoint_url)
        oldest = abandoned(s3, bucket, "a", 400 * KiB)
        older = abandoned(s3, bucket, "b", 400 * KiB)
        # No upload has been idle long enough to give up: the defect, a volume full of parts.
        assert error_code(s3.put_object, Bucket=bucket, Key="p", Body=os.urandom(300 * KiB)) == (
            "SlowDown"
        )
        files = [p.file for p in journal_of(daemon).multipart.uploads[oldest].parts.values()]
    # After a restart, with uploads idle for 2 s given up for room.
    with writeback(relay.url, tmp_path, SMALL_VOLUME, upload_reclaim_idle=2.0) as daemon:
        s3 = client(daemon.endpoint_url)
        wait_until_idle(daemon, 2.2)
        active = abandoned(s3, bucket, "c", 100 * KiB)
        s3.put_object(Bucket=bucket, Key="p", Body=os.urandom(300 * KiB))
        assert_gone(s3, bucket, "a", oldest)
        core = journal_of(daemon).core
        assert not any(core.files.path(name).exists() for name in files)
        for key, upload_id in (("b", older), ("c", active)):
            assert len(s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]) == 1
        journal = status(daemon)["journal"]
        assert journal["uploads_in_progress"] == 2
        assert journal["upload_bytes"] == 500 * KiB
        assert journal["oldest_upload_idle_seconds"] >= 2
        assert (journal["uploads_reclaimed"], journal["uploads_expired"]) == (1, 0)
        assert journal["pending_bytes"] == 800 * KiB
        # 476 KiB more are needed; "b" alone does not hold as much and "c" has just received
        # a part: neither is given up, the write is refused.
        again = {"Bucket": bucket, "Key": "c", "UploadId": active, "PartNumber": 1}
        s3.upload_part(Body=os.urandom(100 * KiB), **again)
        assert error_code(s3.put_object, Bucket=bucket, Key="q", Body=os.urandom(700 * KiB)) == (
            "SlowDown"
        )
        assert status(daemon)["journal"]["uploads_in_progress"] == 2
        relay.hold_writes(False)
    lines = [r.getMessage() for r in caplog.records if "aborted multipart upload" in r.message]
    assert len(lines) == 1
    assert lines[0].startswith(f"aborted multipart upload {oldest} of {bucket}/a (to make room)")
    assert lines[0].endswith(f"{400 * KiB} bytes freed")


def test_expired_uploads_are_aborted_also_after_a_restart(relay, remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path, upload_expiry=3600.0) as daemon:
        s3 = client(daemon.endpoint_url)
        stale = abandoned(s3, bucket, "stale", 10 * KiB)
        made = time.time()
        assert status(daemon)["journal"]["uploads_in_progress"] == 1
    time.sleep(max(0.0, made + 4.5 - time.time()))  # idle for the 3 s expiry (parts: to the second)
    with writeback(relay.url, tmp_path, upload_expiry=3.0) as daemon:
        # Given up while the journal opened, before any request was served.
        assert stale not in journal_of(daemon).multipart.uploads
        s3 = client(daemon.endpoint_url)
        assert_gone(s3, bucket, "stale", stale)
        fresh = abandoned(s3, bucket, "fresh", 10 * KiB)
        assert status(daemon)["journal"]["uploads_in_progress"] == 1
        deadline = time.monotonic() + 60
        while status(daemon)["journal"]["uploads_in_progress"]:
            assert time.monotonic() < deadline, "the sweeper never aborted the upload"
            time.sleep(0.2)
        assert_gone(s3, bucket, "fresh", fresh)
        journal = status(daemon)["journal"]
        assert (journal["uploads_expired"], journal["upload_bytes"]) == (2, 0)
        assert journal["oldest_upload_idle_seconds"] == 0
