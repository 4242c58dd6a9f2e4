"""The uploader: applies the journal's jobs to the remote in the background.

Owns the upload tasks running now (at most ``upload_concurrency``) and the multipart uploads
opened on the remote that a crash left behind (aborted in the background until the remote lets
s3d do so). It starts what ``runnable`` allows whenever the queue changes, a slot frees, or a
backoff ends; while acknowledgements are under way it starts fewer (``upload_slots``). A job
that succeeded leaves the journal first; then a single-file put's file becomes the key's clean
cache entry (``Promote``), unless a newer change of the key waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from s3d.journal import apply
from s3d.journal.core import JournalCore, job_files
from s3d.journal.jobs import Job, next_wake, runnable, upload_slots
from s3d.journal.objects import object_headers
from s3d.journal.records import Put, Stored
from s3d.journal.store import close_remote_upload, open_remote_upload
from s3d.ports import Promote, Remote
from s3d.protocol.model import quote_etag
from s3d.telemetry import Attributes, failed, object_attributes, trace, tracing

log = logging.getLogger("s3d.journal")

INTEGRITY_ATTEMPTS = 3
"""Attempts (failures of any kind included) after which an upload whose stored bytes still
differ from those acknowledged is dead-lettered rather than tried again."""

RemoteEtag = Callable[[str, str, str, str], None]
"""Told (bucket, key, acknowledged ETag, remote ETag) when an upload got another ETag than the
one acknowledged: the mapping contract 4 asks to be recorded."""


class Uploader:
    def __init__(
        self,
        core: JournalCore,
        remote: Remote,
        promote: Promote | None = None,
        opaque_etags: bool = False,
        on_remote_etag: RemoteEtag | None = None,
    ) -> None:
        self._core = core
        self._remote = remote
        self._promote = promote
        self._opaque_etags = opaque_etags
        """The remote encrypts with s3d's SSE-C key: its ETags are not the MD5s acknowledged."""
        self.on_remote_etag = on_remote_etag
        self.running: set[asyncio.Task[None]] = set()
        self.orphans: list[tuple[str, str, str]] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start uploading (and aborting the remote uploads a crash left open)."""
        self.orphans = await self._core.store.remote_uploads()
        self._tasks.append(asyncio.create_task(self._loop(), name="s3d-uploader"))
        if self.orphans:
            sweeper = asyncio.create_task(self._abort_orphans(), name="s3d-orphan-uploads")
            self._tasks.append(sweeper)

    async def aclose(self) -> None:
        """Cancel the loop and every upload running (their jobs stay pending). Idempotent."""
        tasks = [*self._tasks, *self.running]
        self._tasks = []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- multipart uploads open on the remote -----------------------------------------------

    async def opened(self, bucket: str, key: str, upload_id: str) -> None:
        await self._core.store.write([open_remote_upload(upload_id, bucket, key, time.time())])

    async def closed(self, upload_id: str) -> None:
        await self._core.store.write([close_remote_upload(upload_id)])

    async def forget(self, upload_ids: list[str] | None = None) -> int:
        """Stop trying to abort these remote uploads (all when None): for an upload the
        remote will never let s3d abort (its bucket is gone), which would otherwise warn at
        every start. What the remote still holds of it is left to the bucket's lifecycle
        rules. Returns how many were forgotten."""
        chosen = [o for o in self.orphans if upload_ids is None or o[0] in upload_ids]
        if chosen:
            await self._core.store.write([close_remote_upload(o[0]) for o in chosen])
        for orphan in chosen:
            self.orphans.remove(orphan)
            log.warning(
                "forgot multipart upload %s of %s/%s: s3d no longer tries to abort it",
                *orphan,
            )
        return len(chosen)

    async def _abort_orphans(self) -> None:
        """Abort the remote multipart uploads a crash left open (their jobs, still pending,
        upload again from the start), retrying while the remote cannot be reached."""
        settings = self._core.settings
        delay = settings.retry_base
        while self.orphans:
            for upload_id, bucket, key in list(self.orphans):
                try:
                    await apply.abort_remote_upload(self._remote, bucket, key, upload_id)
                except Exception as exc:
                    log.warning(
                        "could not abort upload %s of %s/%s: %s", upload_id, bucket, key, exc
                    )
                    continue
                await self.closed(upload_id)
                self.orphans.remove((upload_id, bucket, key))
                log.info(
                    "aborted multipart upload %s of %s/%s left by a crash", upload_id, bucket, key
                )
            if self.orphans:
                await asyncio.sleep(delay)
                delay = min(delay * 2, settings.retry_max)

    # -- the loop ---------------------------------------------------------------------------

    async def _loop(self) -> None:
        core = self._core
        while True:
            core.wake.clear()
            now = time.time()
            limit = upload_slots(core.settings.upload_concurrency, core.acknowledging)
            slots = limit - len(self.running)
            for job in runnable(core.queue, now, slots):
                job.running = True
                task = asyncio.create_task(self._apply(job))
                self.running.add(task)
                task.add_done_callback(self._finished)
            wake_at = next_wake(core.queue, now)
            timeout = None if wake_at is None else max(0.0, wake_at - time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(core.wake.wait(), timeout)

    def _finished(self, task: asyncio.Task[None]) -> None:
        """A slot is free: the uploader looks for the next job at once."""
        self.running.discard(task)
        self._core.wake.set()

    async def _apply(self, job: Job) -> None:
        # A trace of its own, linked to the request that acknowledged the change.
        attributes = _span_attributes(job) if tracing() else None
        with trace("journal upload", attributes, root=True, links=(job.link,)) as span:
            state = await self._applied(job)
            span.set_attribute("s3d.journal.state", state)
            if state != "uploaded":
                failed(span, state)

    async def _applied(self, job: Job) -> str:
        """Apply ``job``; what became of it: uploaded, retry or dead-letter."""
        core = self._core
        try:
            concurrency = core.settings.part_concurrency
            remote_etag = await apply.apply(
                job, self._remote, core.files, concurrency, self, self._opaque_etags
            )
        except asyncio.CancelledError:
            job.running = False
            raise
        except apply.StoredBytesDiffer as exc:
            job.running = False
            await core.failed(job, self._corrupted(job, exc))
            return "dead-letter" if job.dead else "retry"
        except Exception as exc:  # the outcome of the job: retried or dead-lettered
            job.running = False
            if apply.moot(job, exc, core.queue):
                await core.drop([job])
                return "superseded"
            await core.failed(job, exc)
            return "dead-letter" if job.dead else "retry"
        # The job leaves the journal first, then its file goes to the cache: a crash between
        # the two leaves an orphan file (removed at the next start), never a job whose file
        # has moved away. It stays "running" until it has left: the uploader must not start
        # it again while its removal is being committed.
        try:
            await core.completed(job, keep_files=True)
        finally:
            job.running = False
        remote_etag = self._remote_etag(job, remote_etag)
        if not await self._handed_to_cache(job, remote_etag):
            await core.files.remove(job_files(job))
        return "uploaded"

    def _corrupted(self, job: Job, exc: apply.StoredBytesDiffer) -> Exception:
        """Said loudly: what the remote holds is not what was acknowledged. Tried again (the
        error as it is) until ``INTEGRITY_ATTEMPTS``, then given up (``UploadCorrupted``)."""
        final = job.attempts + 1 >= INTEGRITY_ATTEMPTS
        log.error(
            "upload of %s/%s stored other bytes than acknowledged: %s (attempt %d of %d%s)",
            job.bucket, job.key, exc.message, job.attempts + 1, INTEGRITY_ATTEMPTS,
            ", giving up" if final else ", trying again",
        )  # fmt: skip
        return apply.UploadCorrupted(exc.message) if final else exc

    def _remote_etag(self, job: Job, remote_etag: str | None) -> str | None:
        """The remote's ETag when it differs from the one acknowledged (told on), else None."""
        acknowledged = job.change.etag if isinstance(job.change, Stored) else ""
        if (
            not remote_etag
            or not acknowledged
            or quote_etag(remote_etag) == quote_etag(acknowledged)
        ):
            return None
        log.info(
            "%s/%s: acknowledged with ETag %s, the remote gave it %s",
            job.bucket, job.key, acknowledged, remote_etag,
        )  # fmt: skip
        if self.on_remote_etag is not None:
            self.on_remote_etag(job.bucket, job.key, acknowledged, remote_etag)
        return remote_etag

    async def _handed_to_cache(self, job: Job, remote_etag: str | None) -> bool:
        """After upload, a single-file put becomes a clean cache entry (no second copy) —
        unless a newer change of its key is queued, whose state readers must see instead. The
        entry carries the remote's ETag when it differs from the one acknowledged, so that
        revalidating it against the remote succeeds."""
        change = job.change
        if self._promote is None or not isinstance(change, Put) or change.parts:
            return False
        if self._core.queue.of(job.bucket, job.key):
            return False
        path = self._core.files.path(change.files[0])
        headers = object_headers(change)
        if remote_etag is not None:
            headers = tuple((n, quote_etag(remote_etag) if n == "etag" else v) for n, v in headers)
        try:
            return await self._promote(
                job.bucket, job.key, path, headers, job.size, change.acknowledged
            )
        except Exception:  # the cache declining is no reason to fail an upload
            log.exception("handing %s/%s to the cache failed", job.bucket, job.key)
            return False


def _span_attributes(job: Job) -> Attributes:
    return {
        **object_attributes(job.bucket, job.key),
        "s3d.journal.change": job.kind,
        "s3d.journal.attempt": job.attempts + 1,
        "s3d.journal.bytes": job.size,
    }
