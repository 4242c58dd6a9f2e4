"""One sync folder at work: events in, a loop that rescans, settles and takes in.

The folder's knowledge is a ``FolderState``; its loop, each round: a full rescan when due
(``scan.py``: at start, after an inotify overflow or a new subdirectory, every
``rescan_interval``, and every ``poll_interval`` when the folder is polled), the uploads the
journal reported settled (``settle.py``), then what is complete taken in (``take.py``).
Events and upload reports only update the state and wake the loop; they never do I/O.

Polled (no inotify: ``sync.watch = "poll"``, another OS, or inotify's limits reached) the
folder learns of files by rescans alone: no file is known to have been renamed in or to be
open for writing, so every file is complete by the quiet rule or its marker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from s3d.journal.service import Journal
from s3d.rules.decide import RuleList
from s3d.sync.completion import Seen
from s3d.sync.ledger import Ledger
from s3d.sync.scan import rescan
from s3d.sync.settle import Settlement
from s3d.sync.spec import FolderSpec, is_marker, wanted
from s3d.sync.state import UNKNOWN, FolderState
from s3d.sync.take import Intake, SharedRules
from s3d.sync.watch import FileEvent

log = logging.getLogger("s3d.sync")


def no_rules() -> RuleList:
    """No [sync] rules besides the folder's own."""
    return RuleList("sync")


class Folder:
    def __init__(
        self,
        spec: FolderSpec,
        journal: Journal,
        staging: Path,
        ledger: Ledger,
        rescan_interval: float = 0.0,
        clock: Callable[[], float] = time.time,
        *,
        shared: SharedRules = no_rules,
        poll_interval: float = 2.0,
    ) -> None:
        self.spec, self._journal, self._ledger, self._clock = spec, journal, ledger, clock
        self._rescan_interval, self._poll_interval = rescan_interval, poll_interval
        self.state = FolderState()
        self._settlement = Settlement(spec, self.state, ledger)
        self._intake = Intake(spec, self.state, journal, staging, shared)
        self.watching = "inotify"
        self._rescan_at = 0.0  # due at once: the start's rescan
        self._wake = asyncio.Event()
        self._tick = min(max(spec.quiet / 4, 0.05), 1.0)

    # -- what the watcher and the journal tell ------------------------------------------------

    def event(self, event: FileEvent) -> None:
        path, kind, now, state = event.path, event.kind, self._clock(), self.state
        if state.scanning:
            state.touched.add(path)
        if kind in ("rescan", "poll"):
            self._rescan_at = 0.0
            if kind == "poll":
                self.poll()
        elif is_marker(self.spec, path):
            (state.markers.discard if kind == "gone" else state.markers.add)(path)
        elif not wanted(self.spec, path):
            return
        elif kind == "gone":
            state.waiting.pop(path, None)
            state.filtered.pop(path, None)
        else:
            seen = state.waiting.get(path) or state.new(path, Seen(UNKNOWN, UNKNOWN, now))
            writing = kind in ("created", "modified")
            state.waiting[path] = replace(
                seen, changed_at=now, writing=writing, renamed_in=kind == "renamed_in"
            )
        if kind != "modified":
            self._wake.set()

    def poll(self) -> None:
        """From now on, learn of files by a rescan every ``poll_interval`` (no events)."""
        if self.watching != "poll":
            log.warning(
                "sync folder %s: polled every %ss (no inotify)", self.spec.name, self._poll_interval
            )
        self.watching = "poll"
        self._rescan_at = 0.0
        self._tick = min(self._tick, self._poll_interval)
        self._wake.set()

    def uploaded(self, seq: int) -> None:
        """The journal uploaded job ``seq`` (called on the loop, for every job). Every seq is
        noted: the upload may end before ``ingest`` has returned the job to this folder."""
        self.state.reported.append(seq)
        self._wake.set()

    # -- the loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Work until cancelled. An unexpected error is logged and the loop carries on after
        a pause (a folder must not stop syncing for good on a passing disk error)."""
        while True:
            self._wake.clear()  # before the work: an event during it brings the next round
            try:
                await self._round()
            except Exception:
                log.exception("sync folder %s: unexpected error", self.spec.name)
                await asyncio.sleep(1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._tick)

    async def _round(self) -> None:
        now = self._clock()
        if now >= self._rescan_at:
            interval = self._poll_interval if self.watching == "poll" else self._rescan_interval
            self._rescan_at = now + interval if interval > 0 else float("inf")
            await rescan(self.spec, self.state, self._ledger, now, self._settlement.finish)
        await self._settlement.settle({job.seq for job in self._journal.queue.all()})
        await self._intake.take(self._clock)

    def status(self) -> dict[str, object]:
        dead = {job.seq for job in self._journal.queue.all() if job.dead}
        return {"bucket": self.spec.bucket, **self.state.status(dead, self.watching)}
