"""Bucket-level operations see the journal (real write-back daemon in front of moto behind a
relay that can hold or fail writes, boto3)."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.journal.test_faithful_answers import writes_held
from tests.journal.test_writeback import drained, new_bucket, writeback
from tests.support import Fault, client


def test_delete_bucket_after_its_last_object_waits_for_the_delete(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="last", Body=b"x")
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        held = ("DELETE", f"/{bucket}/last")
        relay.hold(*held)  # only the object's delete: the bucket's would pass at once
        release = threading.Timer(1.0, relay.hold, (*held, False))
        try:
            s3.delete_object(Bucket=bucket, Key="last")
            release.start()
            s3.delete_bucket(Bucket=bucket)
        finally:
            release.cancel()
            relay.hold(*held, False)
        drained(daemon)
    with pytest.raises(ClientError):
        remote.head_bucket(Bucket=bucket)


def test_superseded_changes_of_a_bucket_gone_meanwhile_are_dropped(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold("PUT", f"/{bucket}/k")
        try:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x")
            deadline = time.monotonic() + 30
            while relay.count("PUT", f"/{bucket}/k") == 0 and time.monotonic() < deadline:
                time.sleep(0.05)  # the upload is under way, held in the relay
            s3.delete_object(Bucket=bucket, Key="k")
            remote.delete_bucket(Bucket=bucket)  # gone meanwhile (another node, a person)
        finally:
            relay.hold("PUT", f"/{bucket}/k", False)
        drained(daemon)  # nothing dead-lettered: both changes are moot


def test_a_dead_letter_is_named_by_delete_bucket(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    relay.inject(Fault("PUT", f"/{bucket}/refused", status=403, code="AccessDenied"))
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=bucket, Key="refused", Body=b"x")
        journal = daemon.daemon.journal  # type: ignore[union-attr]
        assert journal is not None
        daemon.call(journal.wait_idle(30))
        with pytest.raises(ClientError) as caught:
            s3.delete_bucket(Bucket=bucket)
        error = caught.value.response["Error"]
        assert error["Code"] == "BucketNotEmpty"
        assert "dead-lettered" in error["Message"]
        assert daemon.call(journal.discard()) == 1
        s3.delete_bucket(Bucket=bucket)


def test_version_listing_waits_for_pending_changes(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Clean-up code lists versions, deletes them, then deletes the bucket: a pending object
    # missing from the listing would leave the bucket not empty.
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        with writes_held(relay) as release_soon:
            s3.put_object(Bucket=bucket, Key="pending", Body=b"x")
            release_soon()
            listing = s3.list_object_versions(Bucket=bucket)
        assert [v["Key"] for v in listing["Versions"]] == ["pending"]
        drained(daemon)
