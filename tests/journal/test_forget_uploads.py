"""A multipart upload left open on the remote whose bucket is gone can never be aborted:
``s3d journal forget-uploads`` makes s3d stop trying (a real daemon, a real moto remote)."""

from __future__ import annotations

import uuid
from pathlib import Path

from s3d.cli.admin_client import endpoint_for
from s3d.cli.journal_client import act_on_dead_letters
from s3d.cli.status_text import render_status
from tests.journal.test_writeback import status, writeback


def test_an_upload_the_remote_cannot_abort_is_forgotten_on_request(
    remote_url: str,
    remote,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    bucket = f"gone-{uuid.uuid4().hex[:12]}"
    data = tmp_path / "data"
    with writeback(remote_url, data) as daemon:
        # As a crash between CreateMultipartUpload and its completion leaves it recorded.
        uploader = daemon.daemon.journal.uploader  # type: ignore[union-attr]
        daemon.call(uploader.opened(bucket, "big.bin", "upload-of-a-gone-bucket"))
    with writeback(remote_url, data) as daemon:
        before = status(daemon)["journal"]
        endpoint = endpoint_for(daemon.settings, daemon.endpoint_url)
        forgotten = act_on_dead_letters(endpoint, "forget-uploads", None)
        after = status(daemon)["journal"]
    with writeback(remote_url, data) as daemon:
        restarted = status(daemon)["journal"]
    assert before["remote_uploads_to_abort"] == 1
    assert before["remote_uploads"] == [
        {"upload_id": "upload-of-a-gone-bucket", "bucket": bucket, "key": "big.bin"}
    ]
    assert f"    upload-of-a-gone-bucket: {bucket}/big.bin" in render_status({"journal": before})
    assert forgotten == "forgotten 1 remote upload\n"
    assert (after["remote_uploads_to_abort"], after["remote_uploads"]) == (0, [])
    assert restarted["remote_uploads_to_abort"] == 0
