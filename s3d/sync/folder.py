"""One sync folder at work: what is waiting, being taken in, pending upload, done with.

Owns, for its directory: the files waiting for completion (``Seen`` each), the markers
present, the journal jobs of the files taken in (seq -> path and identity), and the failures.
Its loop rescans when due (at start, after an inotify overflow or a new subdirectory, and
every ``rescan_interval``), settles the files the journal reported uploaded (ledger first,
then keep/delete/move), and takes in what the completion rule says is complete. Invariants:
a file is removed or moved only after its job's upload was reported and the ledger row is
durable; a file is taken in only when ``completion.complete`` allows it; at most one file of
the folder is being taken in at a time (hashing is disk-bound: more would only compete).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from s3d.journal.core import describe
from s3d.journal.service import Journal
from s3d.protocol.errors import S3Error
from s3d.sync.after import finish
from s3d.sync.completion import Seen, complete, released_by
from s3d.sync.ingest import Changed, Identity, ingest
from s3d.sync.ledger import Ledger
from s3d.sync.spec import FolderSpec, is_marker, key_for, wanted
from s3d.sync.watch import FileEvent

log = logging.getLogger("s3d.sync")
UNKNOWN = -1


class Folder:
    def __init__(
        self,
        spec: FolderSpec,
        journal: Journal,
        staging: Path,
        ledger: Ledger,
        rescan_interval: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec, self._journal, self._staging, self._ledger = spec, journal, staging, ledger
        self._rescan_interval, self._clock = rescan_interval, clock
        self._waiting: dict[str, Seen] = {}
        self._markers: set[str] = set()
        self._used_markers: set[str] = set()
        self._pending: dict[int, tuple[str, Identity]] = {}
        self._taken: dict[str, Identity] = {}
        self._failed: dict[str, str] = {}
        self._reported: list[int] = []
        self._ingesting = False
        self._touched: set[str] = set()
        self._scanning = False
        """Paths events named since the current rescan began: the walk may predate them."""
        self._rescan_at = 0.0  # due at once: the start's rescan
        self._wake = asyncio.Event()
        self._counters = {"seen": 0, "uploaded": 0}
        self._tick = min(max(spec.quiet / 4, 0.05), 1.0)

    # -- what the watcher and the journal tell ------------------------------------------------

    def event(self, event: FileEvent) -> None:
        path, kind, now = event.path, event.kind, self._clock()
        if self._scanning:
            self._touched.add(path)
        if kind == "rescan":
            self._rescan_at = 0.0
        elif is_marker(self.spec, path):
            (self._markers.discard if kind == "gone" else self._markers.add)(path)
        elif not wanted(self.spec, path):
            return
        elif kind == "gone":
            self._waiting.pop(path, None)
        else:
            seen = self._waiting.get(path) or self._new(path, Seen(UNKNOWN, UNKNOWN, now))
            writing = kind in ("created", "modified")
            self._waiting[path] = replace(
                seen, changed_at=now, writing=writing, renamed_in=kind == "renamed_in"
            )
        if kind != "modified":
            self._wake.set()

    def uploaded(self, seq: int) -> None:
        """The journal uploaded job ``seq`` (called on the loop, for every job). Every seq is
        noted: the upload may end before ``ingest`` has returned the job to this folder."""
        self._reported.append(seq)
        self._wake.set()

    def _new(self, path: str, seen: Seen) -> Seen:
        self._counters["seen"] += 1
        self._failed.pop(path, None)
        return seen

    # -- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Work until cancelled. An unexpected error is logged and the loop carries on after
        a pause (a folder must not stop syncing for good on a passing disk error)."""
        while True:
            self._wake.clear()  # before the work: an event during it brings the next round
            try:
                if self._clock() >= self._rescan_at:
                    await self._scan()
                await self._settle()
                await self._take()
            except Exception:
                log.exception("sync folder %s: unexpected error", self.spec.name)
                await asyncio.sleep(1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._tick)

    async def _scan(self) -> None:
        spec, now = self.spec, self._clock()
        interval = self._rescan_interval
        self._rescan_at = now + interval if interval > 0 else float("inf")
        self._touched, self._scanning = set(), True
        try:
            found = await asyncio.to_thread(_walk, spec.directory)
            rows = await self._ledger.rows(spec.name)
            await self._ledger.remove(spec.name, [p for p in rows if p not in found])
        finally:
            self._scanning = False
        # What the walk did not find is gone, unless an event told of it since the walk began.
        touched = self._touched
        self._markers = {p for p in found if is_marker(spec, p)} | (self._markers & touched)
        self._waiting = {p: s for p, s in self._waiting.items() if p in found or p in touched}
        for path, identity in found.items():
            if not wanted(spec, path) or self._taken.get(path) == identity:
                continue
            if rows.get(path) == identity:
                if spec.after != "keep":  # uploaded before a crash, not yet deleted or moved
                    await self._finish(path, identity)
                continue
            if path not in self._waiting:
                seen = Seen(identity.size, identity.mtime_ns, now)
                self._waiting[path] = self._new(path, seen)

    async def _settle(self) -> None:
        reported, self._reported = self._reported, []
        for seq in reported:
            if seq not in self._pending:
                continue  # another writer's, or another folder's
            path, identity = self._pending.pop(seq)
            if self._taken.get(path) == identity:
                del self._taken[path]
            self._counters["uploaded"] += 1
            await self._ledger.add(self.spec.name, path, identity)
            await self._finish(path, identity)
            self._used_markers |= {m for m in self._markers if released_by(self.spec, m, [path])}
        # Gone from the journal without being reported uploaded (reports that came during the
        # awaits above wait in ``_reported``): superseded or discarded.
        alive = {job.seq for job in self._journal.queue.all()} | set(self._reported)
        for seq in [s for s in self._pending if s not in alive]:
            path, identity = self._pending.pop(seq)
            self._taken.pop(path, None)
            self._failed[path] = "superseded by another write of its key before upload"
        await self._finish_markers()

    async def _finish(self, path: str, identity: Identity) -> None:
        await asyncio.to_thread(finish, self.spec, path, identity)
        if self.spec.after != "keep":
            await self._ledger.remove(self.spec.name, [path])

    async def _finish_markers(self) -> None:
        """A marker goes (deleted or moved) once every file it released has been."""
        busy = [*self._waiting, *self._taken]
        for marker in list(self._used_markers):
            if not released_by(self.spec, marker, busy):
                self._used_markers.discard(marker)
                self._markers.discard(marker)
                await asyncio.to_thread(finish, self.spec, marker, None)

    async def _take(self) -> None:
        await self._observe()
        for path in complete(self.spec, self._waiting, self._markers, self._clock()):
            seen = self._waiting.pop(path)
            self._ingesting = True
            try:
                taken = await ingest(
                    self._journal,
                    self._staging,
                    self.spec.directory / path,
                    self.spec.bucket,
                    key_for(self.spec, path),
                    link=self.spec.after != "keep",
                )
            except Changed:
                self._waiting[path] = replace(seen, changed_at=self._clock(), renamed_in=False)
                continue
            except FileNotFoundError:
                continue
            except (OSError, S3Error) as exc:
                self._failed[path] = describe(exc)
                log.error("sync folder %s: cannot take in %s: %s", self.spec.name, path, exc)
                continue
            finally:
                self._ingesting = False
            self._pending[taken.seq] = (path, taken.identity)
            self._taken[path] = taken.identity

    async def _observe(self) -> None:
        """Fresh sizes and mtimes of the waiting files: a change restarts the quiet period
        (and a renamed-in file that changed was not complete: it falls back to quiet)."""
        paths = list(self._waiting)
        stats = await asyncio.to_thread(_stats, self.spec.directory, paths)
        now = self._clock()
        for path, identity in zip(paths, stats, strict=True):
            seen = self._waiting.get(path)
            if seen is None:
                continue
            if identity is None or self._taken.get(path) == identity:
                del self._waiting[path]
            elif (identity.size, identity.mtime_ns) != (seen.size, seen.mtime_ns):
                known = seen.size != UNKNOWN
                self._waiting[path] = replace(
                    seen,
                    size=identity.size,
                    mtime_ns=identity.mtime_ns,
                    changed_at=now if known else seen.changed_at,
                    renamed_in=seen.renamed_in and not known,
                )

    def status(self) -> dict[str, object]:
        dead = {job.seq for job in self._journal.queue.all() if job.dead}
        return {
            "bucket": self.spec.bucket,
            "files_seen": self._counters["seen"],
            "waiting_for_completion": len(self._waiting),
            "pending_upload": len(self._pending) + int(self._ingesting),
            "uploaded": self._counters["uploaded"],
            "failed": len(self._failed) + len(dead & self._pending.keys()),
        }


def _walk(root: Path) -> dict[str, Identity]:
    found = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            with contextlib.suppress(FileNotFoundError):
                if path.is_file():
                    found[path.relative_to(root).as_posix()] = Identity.of(path)
    return found


def _stats(root: Path, paths: list[str]) -> list[Identity | None]:
    stats: list[Identity | None] = []
    for path in paths:
        try:
            stats.append(Identity.of(root / path))
        except FileNotFoundError:
            stats.append(None)
    return stats
