"""Whether a bucket exists, as the journal needs to know before acknowledging a write into it.

Owns the buckets the remote confirmed (and when) and the checks running now, at most one per
bucket. A write into a bucket the remote denies gets NoSuchBucket at once rather than a dead
letter later; a remote that cannot be reached, or is slow to answer, is given the benefit of
the doubt.
"""

from __future__ import annotations

import asyncio
import time

from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchBucket, S3Error, ServiceUnavailable

BUCKET_KNOWN_FOR = 300.0
"""Seconds a bucket the remote confirmed is taken to exist without asking again; after that
it is asked again in the background while writes go on."""
BUCKET_CHECK_WAIT = 2.0
"""Seconds a write waits for the remote to say whether an unknown bucket exists; a remote
that takes longer is given the benefit of the doubt (the write is journaled)."""


class KnownBuckets:
    def __init__(self, remote: Remote) -> None:
        self._remote = remote
        self.confirmed: dict[str, float] = {}
        """Bucket -> when the remote last confirmed it (monotonic)."""
        self.checks: dict[str, asyncio.Task[S3Error | None]] = {}

    async def check(self, bucket: str) -> None:
        """NoSuchBucket now rather than a dead letter later. A bucket confirmed before is
        trusted at once (and asked about again in the background once the confirmation is
        ``BUCKET_KNOWN_FOR`` old); the write never waits on the remote for more than
        ``BUCKET_CHECK_WAIT``. Raises NoSuchBucket, or what else the remote refused with."""
        confirmed = self.confirmed.get(bucket)
        if confirmed is not None:
            if time.monotonic() - confirmed > BUCKET_KNOWN_FOR:
                self._check(bucket)
            return
        try:
            async with asyncio.timeout(BUCKET_CHECK_WAIT):
                error = await asyncio.shield(self._check(bucket))
        except TimeoutError:
            return
        if error is None:
            if bucket not in self.confirmed:
                raise NoSuchBucket(BucketName=bucket)
        elif not isinstance(error, ServiceUnavailable):
            raise error

    def exists(self, bucket: str) -> None:
        self.confirmed[bucket] = time.monotonic()

    def _check(self, bucket: str) -> asyncio.Task[S3Error | None]:
        """The running check of ``bucket`` (one at a time), started if none runs."""
        running = self.checks.get(bucket)
        if running is None or running.done():
            running = asyncio.create_task(self._ask(bucket), name="s3d-bucket-check")
            self.checks[bucket] = running
            running.add_done_callback(
                lambda task: self.checks.pop(bucket) if self.checks.get(bucket) is task else None
            )
        return running

    async def _ask(self, bucket: str) -> S3Error | None:
        """Ask the remote: the bucket is confirmed, or forgotten (NoSuchBucket); any other
        answer changes nothing and is returned."""
        try:
            await self._remote.head_bucket(ops.HeadBucket(bucket))
        except NoSuchBucket:
            self.confirmed.pop(bucket, None)
            return None
        except S3Error as error:
            return error
        self.exists(bucket)
        return None

    async def aclose(self) -> None:
        """Cancel the checks running. Idempotent."""
        running = list(self.checks.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
