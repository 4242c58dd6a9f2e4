"""The journal's shared state: the store, the files, the queue of jobs, and the bookkeeping
of acknowledging, completing and failing them.

Owns the in-memory ``Queue`` (rebuilt from the store at start), the local multipart uploads,
per-key locks that serialise acknowledgements of one key (so supersession sees every older
job), and the counters ``s3d status`` shows. Invariant: the queue holds exactly the jobs the
store holds; a job leaves both only when it is applied, superseded or discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from s3d.journal.files import JournalFiles
from s3d.journal.jobs import Job, Queue, backoff, retryable, superseded
from s3d.journal.store import (
    JournalStore,
    Statement,
    delete_jobs,
    insert_job,
    mark,
)
from s3d.ports import Remote
from s3d.protocol.errors import S3Error
from s3d.settings import JournalSettings

log = logging.getLogger("s3d.journal")


def job_files(job: Job) -> list[str]:
    """The journal files a job's payload names."""
    return [str(name) for name in job.payload.get("files", [])]


class JournalCore:
    def __init__(self, root: Path, settings: JournalSettings, remote: Remote) -> None:
        self.settings = settings
        self.remote = remote
        self.store = JournalStore(root / "journal.sqlite")
        self.files = JournalFiles(root / "files")
        self.queue = Queue()
        self.uploads: dict[str, dict[str, Any]] = {}
        """Local multipart uploads: id -> {bucket, key, payload, created, parts: {n: part}}."""
        self.rng = random.Random()
        self.wake = asyncio.Event()
        self.changed = asyncio.Event()
        self.counters = {"uploaded": 0, "retried": 0, "dead_lettered": 0, "superseded": 0}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._lock_users: Counter[tuple[str, str]] = Counter()

    # -- acknowledgement ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def locked(self, keys: Iterable[tuple[str, str]]) -> AsyncIterator[None]:
        """Hold the acknowledgement locks of ``keys`` (taken in a fixed order: no deadlock)."""
        ordered = sorted(set(keys))
        for key in ordered:
            self._lock_users[key] += 1
        try:
            locks = [self._locks.setdefault(key, asyncio.Lock()) for key in ordered]
            async with contextlib.AsyncExitStack() as stack:
                for lock in locks:
                    await stack.enter_async_context(lock)
                yield
        finally:
            for key in ordered:
                self._lock_users[key] -= 1
                if self._lock_users[key] == 0:
                    # Nobody holds or waits for it: forget it, so locks do not pile up.
                    del self._lock_users[key]
                    self._locks.pop(key, None)

    def plan(
        self, bucket: str, key: str, kind: str, payload: dict[str, Any], size: int
    ) -> tuple[list[Statement], list[Job]]:
        """The statements recording a new job (first) and the older jobs it supersedes."""
        gone = superseded(self.queue.of(bucket, key), kind)
        statements = [insert_job(bucket, key, kind, payload, size, time.time())]
        statements += delete_jobs([job.seq for job in gone])
        return statements, gone

    async def record(
        self,
        changes: list[tuple[str, str, str, dict[str, Any], int]],
        extra: list[Statement] | None = None,
    ) -> list[Job]:
        """Make ``changes`` (bucket, key, kind, payload, size) durable in one transaction,
        superseding what they replace, and queue them. Call with the keys' locks held."""
        statements: list[Statement] = []
        inserts: list[int] = []
        gone: list[Job] = []
        for bucket, key, kind, payload, size in changes:
            planned, superseding = self.plan(bucket, key, kind, payload, size)
            inserts.append(len(statements))
            statements += planned
            gone += superseding
        rowids = await self.store.write(statements + (extra or []))
        jobs = []
        for (bucket, key, kind, payload, size), index in zip(changes, inserts, strict=True):
            job = Job(rowids[index], bucket, key, kind, payload, size, time.time())
            jobs.append(job)
        await self._forget(gone)
        for job in jobs:
            self.queue.add(job)
        self.counters["superseded"] += len(gone)
        self._changed()
        return jobs

    async def drop(self, jobs: list[Job]) -> None:
        """Remove jobs made pointless (durably first), with their files."""
        if jobs:
            await self.store.write(delete_jobs([job.seq for job in jobs]))
            await self._forget(jobs)
            self.counters["superseded"] += len(jobs)
            self._changed()

    async def _forget(self, gone: list[Job]) -> None:
        for job in gone:
            self.queue.remove(job)
        await self.files.remove(name for job in gone for name in job_files(job))

    def _changed(self) -> None:
        self.wake.set()
        self.changed.set()
        self.changed = asyncio.Event()

    # -- outcomes ---------------------------------------------------------------------------

    async def completed(self, job: Job, keep_files: bool = False) -> None:
        """The remote has the change: drop the job (its files too, unless moved elsewhere)."""
        await self.store.write(delete_jobs([job.seq]))
        self.queue.remove(job)
        self.counters["uploaded"] += 1
        if not keep_files:
            await self.files.remove(job_files(job))
        self._changed()

    async def failed(self, job: Job, error: BaseException) -> None:
        """Retry later (passing failure) or dead-letter (permanent)."""
        job.attempts += 1
        if retryable(error):
            delay = backoff(
                job.attempts, self.settings.retry_base, self.settings.retry_max, self.rng
            )
            job.next_attempt = time.time() + delay
            self.counters["retried"] += 1
            log.warning(
                "upload of %s/%s failed (%s), retry %d in %.1fs",
                job.bucket,
                job.key,
                _describe(error),
                job.attempts,
                delay,
            )
            await self.store.write([mark(job.seq, attempts=job.attempts, dead=False, error=None)])
        else:
            job.dead, job.error = True, _describe(error)
            self.counters["dead_lettered"] += 1
            log.error("upload of %s/%s refused: %s (dead-lettered)", job.bucket, job.key, job.error)
            await self.store.write(
                [mark(job.seq, attempts=job.attempts, dead=True, error=job.error)]
            )
        self._changed()

    # -- views ------------------------------------------------------------------------------

    @property
    def pending_bytes(self) -> int:
        parts = sum(
            int(part["size"])
            for upload in self.uploads.values()
            for part in upload["parts"].values()
        )
        return sum(job.size for job in self.queue.all()) + parts

    def waiting(self) -> list[Job]:
        return [job for job in self.queue.all() if not job.dead]


def _describe(error: BaseException) -> str:
    if isinstance(error, S3Error):
        return f"{error.error_code}: {error.message}"
    return f"{type(error).__name__}: {error}"
