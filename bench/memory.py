"""A process's memory and a directory's disk use, sampled while something runs.

Linux only, from ``/proc`` (psutil is not a dependency): ``VmRSS`` is the resident set now,
``VmHWM`` the highest it has been since the process started (the kernel's own peak, which no
sampling interval can miss). Disk use is the blocks allocated to the files under a directory
(what ``du`` counts), so sparse and preallocated files count as they occupy the disk.

``Sampler`` owns one background task, started on entering and cancelled on leaving; ``phase``
names the samples that follow, so a peak can be placed in the PUT, the read or the upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

KiB = 1024


def status_kib(pid: int, field_name: str) -> int | None:
    """A ``kB`` field of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``), in KiB; None when the
    process is gone or the field absent."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == field_name:
            return int(value.split()[0])
    return None


def disk_bytes(root: Path) -> int:
    """Bytes allocated to the files under ``root`` (files vanishing meanwhile are skipped)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


@dataclass(slots=True)
class Phase:
    name: str
    started: float
    seconds: float = 0.0
    peak_rss: int = 0
    """Highest sampled VmRSS, bytes."""
    peak_disk: int = 0
    disk_at_end: int = 0


@dataclass(slots=True)
class Sampler:
    """Samples ``pid``'s RSS every ``interval`` seconds and ``root``'s disk use every
    ``disk_interval``, into the current phase."""

    pid: int
    root: Path
    interval: float = 0.02
    disk_interval: float = 0.25
    phases: list[Phase] = field(default_factory=list)
    samples: list[tuple[float, int]] = field(default_factory=list)
    """(seconds since entering, VmRSS bytes)."""
    _task: asyncio.Task[None] | None = None
    _start: float = 0.0

    async def __aenter__(self) -> Self:
        self._start = time.perf_counter()
        self.phase("idle")
        self._task = asyncio.create_task(self._run(), name="bench-memory-sampler")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._close_phase()

    def phase(self, name: str) -> None:
        """Samples from now on belong to phase ``name``."""
        self._close_phase()
        self.phases.append(Phase(name, time.perf_counter()))
        self._sample_rss()

    def high_water(self) -> int | None:
        """The kernel's peak RSS of the process (VmHWM), bytes."""
        kib = status_kib(self.pid, "VmHWM")
        return None if kib is None else kib * KiB

    def _close_phase(self) -> None:
        if self.phases:
            current = self.phases[-1]
            self._sample_rss()
            current.seconds = time.perf_counter() - current.started
            current.disk_at_end = disk_bytes(self.root)
            current.peak_disk = max(current.peak_disk, current.disk_at_end)

    def _sample_rss(self) -> None:
        kib = status_kib(self.pid, "VmRSS")
        if kib is None or not self.phases:
            return
        rss = kib * KiB
        self.samples.append((time.perf_counter() - self._start, rss))
        current = self.phases[-1]
        current.peak_rss = max(current.peak_rss, rss)

    async def _run(self) -> None:
        next_disk = 0.0
        while True:
            self._sample_rss()
            now = time.perf_counter()
            if now >= next_disk:
                # A few files (staging, journal, cache): cheap, but kept off the RSS cadence.
                used = await asyncio.to_thread(disk_bytes, self.root)
                current = self.phases[-1]
                current.peak_disk = max(current.peak_disk, used)
                next_disk = now + self.disk_interval
            await asyncio.sleep(self.interval)
