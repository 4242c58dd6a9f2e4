"""The write-back journal as a running service: open, upload in the background, stop.

Enter to open: the store is read back into the queue, files no job or upload names are
removed (writes cut short before their acknowledgement), and the uploader starts; pending work
from before a restart resumes at once. The uploader runs the jobs ``runnable`` allows, at most
``upload_concurrency`` at a time, and sleeps until a job is added, one finishes, or a backoff
ends. Multipart uploads a crash left open on the remote are aborted in the background (until
the remote lets s3d do so). Exit to stop: pending changes are uploaded for up to
``flush_on_stop`` seconds, then running uploads are cancelled (their jobs stay pending for the
next start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from s3d.journal import apply
from s3d.journal.copies import Copies
from s3d.journal.core import job_files
from s3d.journal.jobs import Job, next_wake, runnable
from s3d.journal.objects import acknowledged_at, object_headers
from s3d.journal.store import close_remote_upload, mark, open_remote_upload
from s3d.ports import Remote
from s3d.protocol.model import quote_etag
from s3d.settings import JournalSettings
from s3d.staging import StagingArea

log = logging.getLogger("s3d.journal")

Promote = Any
"""``ReadCache.adopt``-like: hands an uploaded file to the read cache (or None)."""
RemoteEtag = Callable[[str, str, str, str], None]


class Journal(Copies):
    def __init__(
        self,
        root: Path,
        settings: JournalSettings,
        remote: Remote,
        staging: StagingArea,
        promote: Promote = None,
        opaque_etags: bool = False,
    ) -> None:
        super().__init__(root, settings, remote)
        self.staging = staging
        self._promote = promote
        self.opaque_etags = opaque_etags
        """The remote encrypts with s3d's SSE-C key: its ETags are not the MD5s acknowledged."""
        self.on_remote_etag: RemoteEtag | None = None
        """Told (bucket, key, acknowledged ETag, remote ETag) when an upload got another ETag
        than the one acknowledged: the mapping contract 4 asks to be recorded."""
        self._known_buckets = {}
        self._bucket_checks = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._orphans: list[tuple[str, str, str]] = []
        self._sweeper: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self.store.__aenter__()
        try:
            await self.files.open()
            await self._load()
        except BaseException:
            await self.store.aclose()
            raise
        self._loop_task = asyncio.create_task(self._upload_loop(), name="s3d-uploader")
        if self._orphans:
            self._sweeper = asyncio.create_task(self._abort_orphans(), name="s3d-orphan-uploads")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose(self.settings.flush_on_stop)

    async def _load(self) -> None:
        for row in await self.store.jobs():
            job = Job(row.seq, row.bucket, row.key, row.kind, row.payload, row.size, row.created)
            job.attempts, job.dead, job.error = row.attempts, row.dead, row.error
            self.queue.add(job)
        for upload_id, bucket, key, payload, created in await self.store.uploads():
            self.uploads[upload_id] = {
                "bucket": bucket, "key": key, "payload": payload, "created": created,
                "parts": {},
            }  # fmt: skip
        for upload_id, number, part in await self.store.parts():
            self.uploads[upload_id]["parts"][number] = part
        await self._dead_letter_missing()
        self._orphans = await self.store.remote_uploads()
        named = {name for job in self.queue.all() for name in job_files(job)}
        named |= {p["file"] for u in self.uploads.values() for p in u["parts"].values()}
        removed = await self.files.reconcile(named)
        log.info(
            "journal opened: %d pending changes (%d bytes), %d uploads in progress; "
            "removed %d unacknowledged files; %d multipart uploads left open on the remote",
            sum(1 for _ in self.queue.all()),
            self.pending_bytes,
            len(self.uploads),
            removed,
            len(self._orphans),
        )

    # -- multipart uploads open on the remote -----------------------------------------------

    async def opened(self, bucket: str, key: str, upload_id: str) -> None:
        await self.store.write([open_remote_upload(upload_id, bucket, key, time.time())])

    async def closed(self, upload_id: str) -> None:
        await self.store.write([close_remote_upload(upload_id)])

    async def _abort_orphans(self) -> None:
        """Abort the remote multipart uploads a crash left open (their jobs, still pending,
        upload again from the start), retrying while the remote cannot be reached."""
        delay = self.settings.retry_base
        while self._orphans:
            for upload_id, bucket, key in list(self._orphans):
                try:
                    await apply.abort_remote_upload(self.remote, bucket, key, upload_id)
                except Exception as exc:
                    log.warning(
                        "could not abort upload %s of %s/%s: %s", upload_id, bucket, key, exc
                    )
                    continue
                await self.closed(upload_id)
                self._orphans.remove((upload_id, bucket, key))
                log.info(
                    "aborted multipart upload %s of %s/%s left by a crash", upload_id, bucket, key
                )
            if self._orphans:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.retry_max)

    async def _dead_letter_missing(self) -> None:
        """A job whose files are gone cannot be uploaded, ever: say so loudly rather than
        retry forever (it would take someone deleting files in the data directory)."""
        names = {name for job in self.queue.all() for name in job_files(job)}
        present = await asyncio.to_thread(
            lambda: {name for name in names if self.files.path(name).exists()}
        )
        for job in list(self.queue.all()):
            missing = [name for name in job_files(job) if name not in present]
            if missing and not job.dead:
                job.dead, job.error = True, f"journal files missing: {', '.join(missing)}"
                log.error(
                    "a pending change of %s/%s lost its data (%s)", job.bucket, job.key, job.error
                )
                await self.store.write(
                    [mark(job.seq, attempts=job.attempts, dead=True, error=job.error)]
                )

    async def aclose(self, flush: float = 0.0) -> None:
        """Upload for up to ``flush`` seconds, then cancel what runs and close. Idempotent."""
        if self._loop_task is None:
            return
        if flush > 0 and self.waiting():
            self.flush_now()
            if not await self.wait_idle(flush):
                log.warning(
                    "stopping with %d changes still pending; they resume at the next start",
                    len(self.waiting()),
                )
        task, self._loop_task = self._loop_task, None
        task.cancel()
        running: list[asyncio.Task[Any]] = [*self._running, *self._bucket_checks.values()]
        if self._sweeper is not None:
            running.append(self._sweeper)
        for upload in running:
            upload.cancel()
        await asyncio.gather(task, *running, return_exceptions=True)
        await self.store.aclose()

    # -- the uploader -----------------------------------------------------------------------

    async def _upload_loop(self) -> None:
        while True:
            self.wake.clear()
            now = time.time()
            slots = self.settings.upload_concurrency - len(self._running)
            for job in runnable(self.queue, now, slots):
                job.running = True
                task = asyncio.create_task(self._apply(job))
                self._running.add(task)
                task.add_done_callback(self._finished)
            wake_at = next_wake(self.queue, now)
            timeout = None if wake_at is None else max(0.0, wake_at - time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)

    def _finished(self, task: asyncio.Task[None]) -> None:
        """A slot is free: the uploader looks for the next job at once."""
        self._running.discard(task)
        self.wake.set()

    async def _apply(self, job: Job) -> None:
        try:
            concurrency = self.settings.part_concurrency
            remote_etag = await apply.apply(
                job, self.remote, self.files, concurrency, self, self.opaque_etags
            )
        except asyncio.CancelledError:
            job.running = False
            raise
        except Exception as exc:  # the outcome of the job: retried or dead-lettered
            job.running = False
            await self.failed(job, exc)
            return
        # The job leaves the journal first, then its file goes to the cache: a crash between
        # the two leaves an orphan file (removed at the next start), never a job whose file
        # has moved away. It stays "running" until it has left: the uploader must not start
        # it again while its removal is being committed.
        try:
            await self.completed(job, keep_files=True)
        finally:
            job.running = False
        acknowledged = str(job.payload.get("etag", ""))
        if remote_etag and acknowledged and quote_etag(remote_etag) != quote_etag(acknowledged):
            log.info(
                "%s/%s: acknowledged with ETag %s, the remote gave it %s",
                job.bucket, job.key, acknowledged, remote_etag,
            )  # fmt: skip
            if self.on_remote_etag is not None:
                self.on_remote_etag(job.bucket, job.key, acknowledged, remote_etag)
        else:
            remote_etag = None
        if not await self._handed_to_cache(job, remote_etag):
            await self.files.remove(job_files(job))

    async def _handed_to_cache(self, job: Job, remote_etag: str | None = None) -> bool:
        """After upload, a single-file put becomes a clean cache entry (no second copy) —
        unless a newer change of its key is queued, whose state readers must see instead. The
        entry carries the remote's ETag when it differs from the one acknowledged, so that
        revalidating it against the remote succeeds."""
        if self._promote is None or job.kind != "put" or job.payload.get("parts"):
            return False
        if self.queue.of(job.bucket, job.key):
            return False
        path = self.files.path(job.payload["files"][0])
        headers = object_headers(job.payload, job.size)
        headers = tuple((n, v) for n, v in headers if n != "x-s3d-state")
        if remote_etag is not None:
            headers = tuple((n, quote_etag(remote_etag) if n == "etag" else v) for n, v in headers)
        try:
            return bool(
                await self._promote(
                    job.bucket, job.key, path, headers, job.size, acknowledged_at(job.payload)
                )
            )
        except Exception:  # the cache declining is no reason to fail an upload
            log.exception("handing %s/%s to the cache failed", job.bucket, job.key)
            return False

    async def settle(self, bucket: str | None, key: str | None) -> None:
        """Before a write of the key goes to the remote directly: its pending changes not yet
        running are superseded, and the one running (if any) is waited for."""
        if bucket is None or key is None:
            return
        async with self.locked([(bucket, key)]):
            await self.drop([job for job in self.queue.of(bucket, key) if not job.running])
        while any(job.running for job in self.queue.of(bucket, key)):
            await self.changed.wait()

    async def uploaded(self, bucket: str | None, key: str | None, seconds: float = 60.0) -> None:
        """Wait (up to ``seconds``) until the key's pending changes reached the remote."""
        if bucket is None or key is None:
            return
        self.flush_now()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while any(not job.dead for job in self.queue.of(bucket, key)):
                    await self.changed.wait()

    # -- flush, retry, discard --------------------------------------------------------------

    def flush_now(self) -> None:
        """Run every waiting job now, whatever its backoff."""
        for job in self.queue.all():
            if not job.dead:
                job.next_attempt = 0.0
        self.wake.set()

    async def wait_idle(self, seconds: float | None = None) -> bool:
        """Wait until no change waits for upload (dead letters aside); False when
        ``seconds`` passed first. Cancellation just stops the waiting."""
        try:
            async with asyncio.timeout(seconds):
                while self.waiting():
                    await self.changed.wait()
        except TimeoutError:
            return False
        return True

    async def retry(self, seqs: list[int] | None = None) -> int:
        """Dead-lettered jobs (all, or these) back into the queue; how many."""
        chosen = [j for j in self.queue.all() if j.dead and (seqs is None or j.seq in seqs)]
        for job in chosen:
            job.dead, job.error, job.attempts, job.next_attempt = False, None, 0, 0.0
        await self.store.write([mark(j.seq, attempts=0, dead=False, error=None) for j in chosen])
        self._changed()
        return len(chosen)

    async def discard(self, seqs: list[int] | None = None) -> int:
        """Give up dead-lettered jobs (all, or these), with their files; how many."""
        chosen = [j for j in self.queue.all() if j.dead and (seqs is None or j.seq in seqs)]
        await self.drop(chosen)
        return len(chosen)

    def status(self) -> dict[str, object]:
        waiting = self.waiting()
        dead = [job for job in self.queue.all() if job.dead]
        oldest = min((job.created for job in waiting), default=None)
        return {
            "mode": self.settings.mode,
            "queue": len(waiting),
            "uploading": len(self._running),
            "pending_bytes": self.pending_bytes,
            "oldest_pending_seconds": round(time.time() - oldest, 3) if oldest else 0.0,
            "uploads_in_progress": len(self.uploads),
            "remote_uploads_to_abort": len(self._orphans),
            "dead_letters": len(dead),
            "dead": [_dead_letter(job) for job in dead[:50]],
            **self.counters,
        }


def _dead_letter(job: Job) -> dict[str, object]:
    return {
        "id": job.seq,
        "bucket": job.bucket,
        "key": job.key,
        "change": job.kind,
        "attempts": job.attempts,
        "error": job.error,
    }
