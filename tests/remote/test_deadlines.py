"""Connect and read timeouts, the retry window and the listing deadline, against a real
"black hole" remote: a loopback listener that accepts connections and never answers."""

from __future__ import annotations

import asyncio

import pytest

from s3d.protocol import errors
from s3d.protocol import operations as ops
from s3d.remote.client import RemoteS3
from s3d.remote.deadlines import RetryWindow
from s3d.settings import BucketRemote
from tests.remote.black_hole import BlackHole, stalled_get
from tests.remote.conftest import read_all, remote_settings

HANG_GUARD = 60.0
"""Seconds within which each call must have answered at all (not a timing assertion)."""


async def head(remote: RemoteS3) -> errors.S3Error:
    with pytest.raises(errors.ServiceUnavailable) as raised:
        await asyncio.wait_for(
            remote.get_object(ops.GetObject("bucket", "key", head=True)), HANG_GUARD
        )
    return raised.value


async def test_a_silent_remote_is_retried_only_within_the_window() -> None:
    # Read timeouts are retried (botocore's standard mode) up to max_attempts attempts, the
    # first included...
    with BlackHole() as hole:
        settings = remote_settings(hole.url, read_timeout=0.3, max_attempts=3, retry_window=60)
        async with RemoteS3(settings) as remote:
            error = await head(remote)
        assert "stopped answering" in error.message
        assert hole.accepted == 3
    # ...but none starts once the window has passed: here, after the first attempt.
    with BlackHole() as hole:
        settings = remote_settings(hole.url, read_timeout=0.3, max_attempts=5, retry_window=0)
        async with RemoteS3(settings) as remote:
            await head(remote)
        assert hole.accepted == 1


async def test_a_listing_gives_up_at_its_deadline() -> None:
    # The read timeout alone would hold the listing for minutes.
    with BlackHole() as hole:
        settings = remote_settings(hole.url, read_timeout=600, listing_deadline=0.5)
        async with RemoteS3(settings) as remote:
            with pytest.raises(errors.ServiceUnavailable) as raised:
                await asyncio.wait_for(
                    remote.list_objects(ops.ListObjects("bucket", version=2)), HANG_GUARD
                )
            assert "stopped answering (deadline)" in raised.value.message
            # Other calls keep the read timeout: the deadline is the listing's own.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(
                    remote.get_object(ops.GetObject("bucket", "key", head=True)), 2.0
                )


async def test_a_body_that_stalls_ends_with_service_unavailable() -> None:
    # Headers come, then a part of the body, then nothing: the read timeout applies between
    # reads of the body too, and the reader learns the remote stopped answering.
    with BlackHole(stalled_get(1000, b"x" * 100)) as hole:
        async with RemoteS3(remote_settings(hole.url, read_timeout=0.5)) as remote:
            answer = await asyncio.wait_for(
                remote.get_object(ops.GetObject("bucket", "key")), HANG_GUARD
            )
            assert answer.status == 200
            with pytest.raises(errors.ServiceUnavailable) as raised:
                await asyncio.wait_for(read_all(answer.body), HANG_GUARD)
    assert "stopped answering (read timeout)" in raised.value.message


async def test_credential_services_get_the_same_timeouts(
    remote_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bucket's role is assumed through STS: a silent STS is given the remote's read timeout
    # and attempts (botocore's own defaults would wait a minute, five times).
    with BlackHole() as sts:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
        role = BucketRemote("elsewhere", role_arn="arn:aws:iam::123456789012:role/s3d-bucket")
        settings = remote_settings(
            remote_url, read_timeout=0.3, max_attempts=2, bucket_settings=(role,)
        )
        with pytest.raises(errors.ServiceUnavailable):
            await asyncio.wait_for(RemoteS3(settings).__aenter__(), HANG_GUARD)
        assert sts.accepted == 2


def test_retry_window_vetoes_only_once_passed() -> None:
    now = [100.0]
    window = RetryWindow(5.0, clock=lambda: now[0])
    context: dict[str, object] = {}
    window.started(context)
    now[0] = 104.0
    window.started(context)  # a later before-call of the same call keeps the first time
    assert window.needs_retry({"context": context}) is None
    now[0] = 105.0
    assert window.needs_retry({"context": context}) is False
    assert window.needs_retry({"context": {}}) is None
