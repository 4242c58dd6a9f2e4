"""The journal's core: the store, the files, the queue of jobs, the per-key locks, and the
bookkeeping of recording, completing and failing jobs.

Owns the in-memory ``Queue`` (rebuilt from the store at start) and the counters ``s3d status``
shows. Invariants:
- the queue holds exactly the jobs the store holds, once their transaction committed; a job
  leaves both only when it is applied, superseded or discarded;
- deciding which queued jobs a change supersedes and keeping the uploader off them is one step
  with no ``await`` in between: they are ``held`` from the decision until the commit, so a job
  the uploader picked is never superseded (a newer change waits behind it) and a superseded
  job is never picked;
- readers never see a key without its newest acknowledged state: a change's job joins the
  queue before the jobs it supersedes leave it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from s3d.journal.files import JournalFiles
from s3d.journal.inline import InlineBodies
from s3d.journal.jobs import Job, Queue, backoff, retryable, superseded
from s3d.journal.records import Change, Stored
from s3d.journal.store import (
    Files,
    JournalStore,
    Statement,
    delete_inline,
    delete_jobs,
    insert_job,
    mark,
)
from s3d.protocol.errors import S3Error
from s3d.settings import JournalSettings
from s3d.telemetry import acknowledging, object_attributes, trace, tracing

log = logging.getLogger("s3d.journal")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NewChange:
    bucket: str
    key: str
    change: Change
    size: int = 0


def job_files(job: Job) -> tuple[str, ...]:
    """The journal files a job's change names."""
    return job.change.files if isinstance(job.change, Stored) else ()


def leaving(jobs: list[Job]) -> list[Statement]:
    """Delete ``jobs`` and the rows of their small bodies (``journal/inline.py``): a body's
    row is its durable home until its job leaves the journal."""
    names = [name for job in jobs for name in job_files(job)]
    return delete_jobs([job.seq for job in jobs]) + delete_inline(names)


class JournalCore:
    """Enter to open the store and the files directory; exit to close the store."""

    def __init__(self, root: Path, settings: JournalSettings) -> None:
        self.settings = settings
        self.store = JournalStore(root / "journal.sqlite")
        self.files = JournalFiles(root / "files")
        self.inline = InlineBodies(self.files, self.store)
        """Small bodies committed with their jobs (one fsync), settled afterwards."""
        self.queue = Queue()
        self.rng = random.Random()
        self.wake = asyncio.Event()
        """Set when the uploader may have something new to start."""
        self.changed = asyncio.Event()
        """Replaced (after being set) whenever the queue changed: wait on it, then re-check."""
        self.counters = {"uploaded": 0, "retried": 0, "dead_lettered": 0, "superseded": 0}
        self.on_uploaded: list[Callable[[Job], None]] = []
        """Told of each job once the remote has its change and it left the journal (sync
        folders remove a local file only then)."""
        self.acknowledging = 0
        """Acknowledgements under way (wanting or holding their keys' locks): uploads yield
        to them (``jobs.upload_slots``)."""
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._lock_users: Counter[tuple[str, str]] = Counter()

    async def open(self) -> None:
        await self.store.__aenter__()
        try:
            await self.files.open()
            for job in await self.store.jobs():
                self.queue.add(job)
            named = {name for job in self.queue.all() for name in job_files(job)}
            await self.inline.restore(named)  # before anything reads the journal's files
        except BaseException:
            await self.store.aclose()
            raise

    async def aclose(self) -> None:
        await self.store.aclose()

    # -- acknowledgement ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def locked(self, keys: Iterable[tuple[str, str]]) -> AsyncIterator[None]:
        """Hold the acknowledgement locks of ``keys`` (taken in a fixed order: no deadlock)."""
        ordered = sorted(set(keys))
        for key in ordered:
            self._lock_users[key] += 1
        self.acknowledging += 1
        try:
            locks = [self._locks.setdefault(key, asyncio.Lock()) for key in ordered]
            async with contextlib.AsyncExitStack() as stack:
                for lock in locks:
                    await stack.enter_async_context(lock)
                yield
        finally:
            self.acknowledging -= 1
            if self.acknowledging == 0:
                self.wake.set()  # the uploader may start what it held back
            for key in ordered:
                self._lock_users[key] -= 1
                if self._lock_users[key] == 0:
                    # Nobody holds or waits for it: forget it, so locks do not pile up.
                    del self._lock_users[key]
                    self._locks.pop(key, None)

    async def record(
        self, changes: list[NewChange], extra: Iterable[Statement] = (), files: Files = ()
    ) -> list[Job]:
        """Make ``changes`` durable in one transaction (with ``extra`` statements, ``files``
        written in its hop: ``JournalStore.write``), superseding what they replace, and queue
        them. Call with the keys' locks held. Cancelling the caller does not stop a commit
        under way: the queue follows the store either way."""
        if not tracing():
            return await self._record(changes, extra, files)
        first = changes[0] if changes else None
        where = object_attributes(first.bucket, first.key) if first is not None else {}
        attributes = {**where, "s3d.journal.changes": len(changes), "s3d.journal.state": "pending"}
        with trace("journal record", attributes):
            return await self._record(changes, extra, files)

    async def _record(
        self, changes: list[NewChange], extra: Iterable[Statement], files: Files
    ) -> list[Job]:
        gone: list[Job] = []
        statements: list[Statement] = []
        inserts: list[int] = []
        now = time.time()
        link = acknowledging()
        for new in changes:
            older = superseded(self.queue.of(new.bucket, new.key), new.change.kind)
            gone += older
            inserts.append(len(statements))
            statements.append(insert_job(new.bucket, new.key, new.change, new.size, now))
            statements += leaving(older)
        self._hold(gone)  # before any await: the uploader cannot pick what is being superseded

        async def commit() -> list[Job]:
            rowids = await self._commit(statements + list(extra), gone, files)
            jobs = [
                Job(rowids[index], new.bucket, new.key, new.change, new.size, now, link=link)
                for new, index in zip(changes, inserts, strict=True)
            ]
            for job in jobs:
                self.queue.add(job)
            await self._forget(gone)
            return jobs

        return await _seen_through(commit())

    async def drop(self, jobs: list[Job]) -> None:
        """Remove jobs made pointless (durably first), with their files. Pass only jobs that
        are neither running nor held (another decision's)."""
        if jobs:
            self._hold(jobs)

            async def commit() -> None:
                await self._commit(leaving(jobs), jobs)
                await self._forget(jobs)

            await _seen_through(commit())

    async def rewrite(self, job: Job, change: Change, statement: Statement) -> bool:
        """Replace a queued job's change (durably first). False when the uploader had already
        taken the job: the caller records a change of its own instead."""
        if job.running or job.held or job not in self.queue.of(*job.where):
            return False
        self._hold([job])

        async def commit() -> None:
            await self._commit([statement], [job])
            job.change = change

        await _seen_through(commit())
        return True

    def _hold(self, jobs: list[Job]) -> None:
        for job in jobs:
            job.held = True

    async def _commit(
        self, statements: list[Statement], held: list[Job], files: Files = ()
    ) -> list[int]:
        """Commit ``statements`` (and write ``files``); ``held`` jobs go back to the uploader
        once it is durable (or failed)."""
        try:
            return await self.store.write(statements, files)
        finally:
            for job in held:
                job.held = False
            self._changed()

    async def _forget(self, gone: list[Job]) -> None:
        for job in gone:
            self.queue.remove(job)
        self.counters["superseded"] += len(gone)
        self._changed()
        await self.files.remove(name for job in gone for name in job_files(job))

    def _changed(self) -> None:
        self.wake.set()
        self.changed.set()
        self.changed = asyncio.Event()

    # -- outcomes ---------------------------------------------------------------------------

    async def completed(self, job: Job, keep_files: bool = False) -> None:
        """The remote has the change: drop the job (its files too, unless moved elsewhere)."""
        await self.store.write(leaving([job]))
        self.queue.remove(job)
        self.counters["uploaded"] += 1
        for listener in self.on_uploaded:
            listener(job)
        if not keep_files:
            await self.files.remove(job_files(job))
        self._changed()

    async def failed(self, job: Job, error: BaseException) -> None:
        """Retry later (passing failure) or dead-letter (permanent)."""
        job.attempts += 1
        if retryable(error):
            settings = self.settings
            delay = backoff(job.attempts, settings.retry_base, settings.retry_max, self.rng)
            job.next_attempt = time.time() + delay
            self.counters["retried"] += 1
            log.warning(
                "upload of %s/%s failed (%s), retry %d in %.1fs",
                job.bucket, job.key, describe(error), job.attempts, delay,
            )  # fmt: skip
        else:
            job.dead, job.error = True, describe(error)
            self.counters["dead_lettered"] += 1
            log.error("upload of %s/%s refused: %s (dead-lettered)", job.bucket, job.key, job.error)
        await self.store.write(
            [mark(job.seq, attempts=job.attempts, dead=job.dead, error=job.error)]
        )
        self._changed()

    async def revive(self, jobs: list[Job]) -> int:
        """Dead-lettered ``jobs`` back into the queue, attempts reset; how many."""
        for job in jobs:
            job.dead, job.error, job.attempts, job.next_attempt = False, None, 0, 0.0
        await self.store.write([mark(j.seq, attempts=0, dead=False, error=None) for j in jobs])
        self._changed()
        return len(jobs)

    async def dead_letter(self, job: Job, error: str) -> None:
        job.dead, job.error = True, error
        await self.store.write([mark(job.seq, attempts=job.attempts, dead=True, error=error)])

    # -- views ------------------------------------------------------------------------------

    @property
    def queued_bytes(self) -> int:
        return sum(job.size for job in self.queue.all())

    def waiting(self) -> list[Job]:
        return [job for job in self.queue.all() if not job.dead]


async def _seen_through(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end even when the caller is cancelled meanwhile (the caller's
    cancellation is raised once it has ended): a commit and the bookkeeping that follows it
    are one step."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


def describe(error: BaseException) -> str:
    if isinstance(error, S3Error):
        return f"{error.error_code}: {error.message}"
    return f"{type(error).__name__}: {error}"
