"""An upload whose stored bytes differ from those acknowledged is an error, tried again, then
a dead letter — never a silent success. The real case: moto's server keeps 0 bytes of a PUT
sent with ``Content-Type: application/x-www-form-urlencoded`` (curl's default for
``--data-binary``), as it parses the body as a form; its ETag is then the MD5 of nothing."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import pytest

from s3d.journal.uploader import INTEGRITY_ATTEMPTS
from tests.journal.test_writeback import new_bucket, status, writeback
from tests.support import send, sign

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_a_remote_storing_other_bytes_is_retried_then_dead_lettered(
    remote_url: str,
    remote,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bucket = new_bucket(remote)
    body = b"0123456789"
    with (
        caplog.at_level(logging.ERROR, logger="s3d.journal"),
        writeback(remote_url, tmp_path / "data") as daemon,
    ):
        url, headers = sign(
            "PUT", f"{daemon.endpoint_url}/{bucket}/form.bin", headers=FORM, body=body
        )
        code, answer, _ = send("PUT", url, headers, body)
        deadline = time.monotonic() + 60
        while status(daemon)["journal"]["dead_letters"] == 0:
            assert time.monotonic() < deadline, "never dead-lettered"
            time.sleep(0.2)
        journal = status(daemon)["journal"]
        url, headers = sign("GET", f"{daemon.endpoint_url}/{bucket}/form.bin")
        read, _, served = send("GET", url, headers)
    assert code == 200
    assert answer["etag"] == f'"{hashlib.md5(body).hexdigest()}"'
    stored = remote.get_object(Bucket=bucket, Key="form.bin")["Body"].read()
    assert stored != body  # what moto did: the reason this test exists
    [dead] = journal["dead"]
    assert dead["attempts"] == INTEGRITY_ATTEMPTS
    assert dead["error"].startswith(f"BadDigest: the remote stored {bucket}/form.bin with ETag ")
    assert journal["uploaded"] == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) >= INTEGRITY_ATTEMPTS
    assert "stored other bytes than acknowledged" in errors[0].getMessage()
    # Still the acknowledged bytes on this node, never the remote's altered copy.
    assert (read, served) == (200, body)
