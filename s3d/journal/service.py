"""The write-back journal as a running service: its parts composed, opened and stopped.

``Journal`` builds the core (store, files, queue, locks) and the collaborators that work on it
— acknowledgements, local multipart uploads, reads, copies, the uploader — each with what it
needs, and exposes their typed methods to the gateway. Enter to open: the store is read back
into the queue, files no job or upload names are removed (writes cut short before their
acknowledgement), a job whose files are gone is dead-lettered, local multipart uploads idle
past ``upload_expiry`` are given up, and the uploader and the expiry sweeper start; pending
work from before a restart resumes at once. Exit to stop: pending changes are uploaded
for up to ``flush_on_stop`` seconds, then running uploads are cancelled (their jobs stay
pending for the next start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Self

from s3d.journal.abandoned import AbandonedUploads
from s3d.journal.acks import Acknowledgements
from s3d.journal.buckets import KnownBuckets
from s3d.journal.copies import Copies
from s3d.journal.core import JournalCore, job_files
from s3d.journal.jobs import Job, Queue, held_back, tried
from s3d.journal.reads import Reads
from s3d.journal.uploader import RemoteEtag, Uploader
from s3d.journal.uploads import LocalMultipart
from s3d.ports import Promote, Remote
from s3d.settings import JournalSettings
from s3d.staging import StagingArea

log = logging.getLogger("s3d.journal")

DISCARD_SETTLE = 5.0
"""Seconds ``discard`` (of every dead letter) waits for the changes they held back to be
tried once, so that those the remote refuses the same way go in the same command."""


class Journal:
    def __init__(
        self,
        root: Path,
        settings: JournalSettings,
        remote: Remote,
        staging: StagingArea,
        promote: Promote | None = None,
        opaque_etags: bool = False,
        on_remote_etag: RemoteEtag | None = None,
    ) -> None:
        self.settings = settings
        self.core = core = JournalCore(root, settings)
        self.buckets = KnownBuckets(remote)
        self.reads = Reads(core, remote)
        self.acks = Acknowledgements(core, self.buckets, self.reads, remote, settings)
        self.multipart = LocalMultipart(core, self.buckets, self.reads)
        self.abandoned = AbandonedUploads(self.multipart, settings)
        self.copies = Copies(
            core, self.acks, self.reads, self.multipart, self.buckets, remote, staging
        )
        self.uploader = Uploader(core, remote, promote, opaque_etags, on_remote_etag)
        # A body uploaded in parts gets their MD5s as it is staged, not by reading it again.
        staging.hash_parts(settings.multipart_threshold, settings.part_size)
        self._open = False
        # The typed operations the gateway calls, each its collaborator's.
        self.put, self.delete, self.delete_many = (
            self.acks.put,
            self.acks.delete,
            self.acks.delete_many,
        )
        self.tagging = self.acks.tagging
        self.copy, self.upload_part_copy = self.copies.copy, self.copies.upload_part_copy
        self.read, self.newest = self.reads.read, self.reads.newest
        self.overlay, self.pending_tags = self.reads.overlay, self.reads.pending_tags
        self.create_upload, self.upload_part = (
            self.multipart.create_upload,
            self.multipart.upload_part,
        )
        self.complete, self.abort = self.multipart.complete, self.multipart.abort
        self.list_parts = self.multipart.list_parts
        self.bucket_exists = self.buckets.exists

    async def __aenter__(self) -> Self:
        await self.core.open()
        try:
            await self.multipart.load()
            await self.abandoned.sweep()  # uploads that expired while s3d was down go at once
            await self._dead_letter_missing()
            named = {name for job in self.core.queue.all() for name in job_files(job)}
            removed = await self.core.files.reconcile(named | self.multipart.files())
            await self.uploader.start()
            self.abandoned.start()
        except BaseException:
            await self.uploader.aclose()
            await self.core.aclose()
            raise
        self._open = True
        log.info(
            "journal opened: %d pending changes (%d bytes), %d uploads in progress; "
            "removed %d unacknowledged files; %d multipart uploads left open on the remote",
            sum(1 for _ in self.core.queue.all()),
            self.pending_bytes,
            len(self.multipart.uploads),
            removed,
            len(self.uploader.orphans),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose(self.settings.flush_on_stop)

    async def _dead_letter_missing(self) -> None:
        """A job whose files are gone cannot be uploaded, ever: say so loudly rather than
        retry forever (it would take someone deleting files in the data directory)."""
        files = self.core.files
        names = {name for job in self.core.queue.all() for name in job_files(job)}
        present = await asyncio.to_thread(lambda: {n for n in names if files.path(n).exists()})
        for job in list(self.core.queue.all()):
            missing = [name for name in job_files(job) if name not in present]
            if missing and not job.dead:
                error = f"journal files missing: {', '.join(missing)}"
                log.error(
                    "a pending change of %s/%s lost its data (%s)", job.bucket, job.key, error
                )
                await self.core.dead_letter(job, error)

    async def aclose(self, flush: float = 0.0) -> None:
        """Upload for up to ``flush`` seconds, then cancel what runs and close. Idempotent."""
        if not self._open:
            return
        self._open = False
        if flush > 0 and self.flushable():
            self.flush_now()
            if not await self.wait_idle(flush):
                log.warning(
                    "stopping with %d changes still pending; they resume at the next start",
                    len(self.flushable()),
                )
        await self.abandoned.aclose()
        await self.uploader.aclose()
        await self.buckets.aclose()
        await self.core.aclose()

    # -- views ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Entered and not yet stopping (readiness reads it)."""
        return self._open

    @property
    def queue(self) -> Queue:
        return self.core.queue

    @property
    def pending_bytes(self) -> int:
        """Bytes waiting for upload: queued changes and the parts of local uploads."""
        return self.core.queued_bytes + self.multipart.pending_bytes

    def waiting(self) -> list[Job]:
        return self.core.waiting()

    def flushable(self) -> list[Job]:
        """The waiting changes a flush can upload: not those held behind a dead letter."""
        held = {id(job) for job in held_back(self.core.queue)}
        return [job for job in self.core.waiting() if id(job) not in held]

    # -- writes that go to the remote directly ------------------------------------------------

    async def settle(self, bucket: str | None, key: str | None) -> None:
        """Before a write of the key goes to the remote directly: its pending changes not yet
        running are superseded, and the one running (if any) is waited for."""
        if bucket is None or key is None:
            return
        core = self.core
        async with core.locked([(bucket, key)]):
            await core.drop([j for j in core.queue.of(bucket, key) if not (j.running or j.held)])
        while any(job.running or job.held for job in core.queue.of(bucket, key)):
            await core.changed.wait()

    async def uploaded(self, bucket: str | None, key: str | None, seconds: float = 60.0) -> None:
        """Wait (up to ``seconds``) until the key's pending changes reached the remote."""
        if bucket is None or key is None or not self.core.queue.of(bucket, key):
            return
        self.flush_now()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while any(not job.dead for job in self.core.queue.of(bucket, key)):
                    await self.core.changed.wait()

    async def bucket_uploaded(self, bucket: str, seconds: float = 60.0) -> list[Job]:
        """Wait (up to ``seconds``) until the bucket's pending changes reached the remote;
        the bucket's jobs left (dead letters, or what did not make it in time)."""

        def left() -> list[Job]:
            return [job for job in self.core.queue.all() if job.bucket == bucket]

        if any(not job.dead for job in left()):
            self.flush_now()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    while any(not job.dead for job in left()):
                        await self.core.changed.wait()
        return left()

    # -- flush, retry, discard --------------------------------------------------------------

    def flush_now(self) -> None:
        """Run every waiting job now, whatever its backoff."""
        for job in self.core.queue.all():
            if not job.dead:
                job.next_attempt = 0.0
        self.core.wake.set()

    async def wait_idle(self, seconds: float | None = None) -> bool:
        """Wait until no change waits for upload (dead letters, and the changes they hold
        back, aside); False when ``seconds`` passed first. Cancellation just stops the
        waiting."""
        try:
            async with asyncio.timeout(seconds):
                while self.flushable():
                    await self.core.changed.wait()
        except TimeoutError:
            return False
        return True

    async def retry(self, seqs: list[int] | None = None) -> int:
        """Dead-lettered jobs (all, or these) back into the queue; how many."""
        return await self.core.revive(self._dead(seqs))

    async def discard(self, seqs: list[int] | None = None) -> int:
        """Give up dead-lettered jobs (all, or these), with their files; how many. For all
        of them, the changes they held back are then tried at once (for up to
        ``DISCARD_SETTLE`` seconds), and those the remote refuses too (a bucket gone) are
        given up in the same call. Cancellation stops the waiting; what was dropped stays
        dropped."""
        chosen = [job for job in self._dead(seqs) if not job.held]
        await self.core.drop(chosen)
        total = len(chosen)
        deadline = asyncio.get_running_loop().time() + DISCARD_SETTLE
        while seqs is None and chosen:
            released = {job.where for job in chosen}
            self.flush_now()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    while not tried(self.core.queue, released):
                        await self.core.changed.wait()
            chosen = [j for j in self._dead(None) if j.where in released and not j.held]
            await self.core.drop(chosen)
            total += len(chosen)
        return total

    async def forget_remote_uploads(self, upload_ids: list[str] | None = None) -> int:
        """Stop aborting these remote multipart uploads (all when None); how many."""
        return await self.uploader.forget(upload_ids)

    def _dead(self, seqs: list[int] | None) -> list[Job]:
        return [j for j in self.core.queue.all() if j.dead and (seqs is None or j.seq in seqs)]

    def status(self) -> dict[str, object]:
        waiting = self.waiting()
        dead = [job for job in self.core.queue.all() if job.dead]
        oldest = min((job.created for job in waiting), default=None)
        return {
            "mode": self.settings.mode,
            "queue": len(waiting),
            "held_by_dead_letters": len(held_back(self.core.queue)),
            "uploading": len(self.uploader.running),
            "pending_bytes": self.pending_bytes,
            "oldest_pending_seconds": round(time.time() - oldest, 3) if oldest else 0.0,
            **self.abandoned.status(),
            "remote_uploads_to_abort": len(self.uploader.orphans),
            "remote_uploads": [_orphan(*orphan) for orphan in self.uploader.orphans[:50]],
            "dead_letters": len(dead),
            "dead": [_dead_letter(job) for job in dead[:50]],
            **self.core.counters,
        }


def _orphan(upload_id: str, bucket: str, key: str) -> dict[str, object]:
    return {"upload_id": upload_id, "bucket": bucket, "key": key}


def _dead_letter(job: Job) -> dict[str, object]:
    return {
        "id": job.seq,
        "bucket": job.bucket,
        "key": job.key,
        "change": job.kind,
        "attempts": job.attempts,
        "error": job.error,
    }
