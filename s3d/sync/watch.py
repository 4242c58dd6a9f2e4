"""inotify on a sync folder and its subdirectories, as plain events (Linux).

asyncinotify rather than watchfiles: the completion rules need each event's exact kind — a
rename into the folder (``IN_MOVED_TO``) completes a file, a close after writing
(``IN_CLOSE_WRITE``) only starts its quiet period — and the kernel's queue overflow
(``IN_Q_OVERFLOW``), after which a full rescan is due. watchfiles (Rust ``notify``) folds
events into added/modified/deleted, debounces them, and does not surface the overflow. It is
also pure Python over the system calls, reading the inotify descriptor on the event loop: no
thread, no compiled wheel.

A new subdirectory gets a watch of its own, and a ``rescan`` event: files may have landed in
it before the watch did. Events of a directory whose watch went away are dropped.

Where inotify is not to be had — another OS (asyncinotify does not load), no inotify instance
left (``fs.inotify.max_user_instances``, EMFILE), or the watch limit reached
(``fs.inotify.max_user_watches``, ENOSPC) — ``watcher`` says so with ``Unavailable``, and a
watcher that reaches the watch limit later (a new subdirectory) sends a ``poll`` event: the
folder then learns of files by periodic rescans instead (``folder.py``).
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

if TYPE_CHECKING:
    from asyncinotify import Inotify, Mask

EventKind = Literal["renamed_in", "created", "modified", "closed", "gone", "rescan", "poll"]


class Unavailable(Exception):
    """inotify cannot watch this folder (the message says why)."""


@dataclass(frozen=True, slots=True)
class FileEvent:
    kind: EventKind
    path: str = ""
    """Relative to the folder, ``/``-separated; empty for ``rescan``."""


class Watcher:
    """Enter to watch ``root`` (which must exist) and every directory below it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._inotify: Inotify | None = None
        self._mask: Mask | None = None

    async def __aenter__(self) -> Self:
        """Watch the tree. Raises Unavailable (no inotify here, no instance or watch left)."""
        try:
            from asyncinotify import Inotify, Mask
        except (ImportError, OSError, AttributeError) as exc:  # not Linux: libc has no inotify
            raise Unavailable(f"no inotify on this system ({exc})") from None
        self._mask = (
            Mask.CREATE
            | Mask.MODIFY
            | Mask.CLOSE_WRITE
            | Mask.MOVED_TO
            | Mask.MOVED_FROM
            | Mask.DELETE
            | Mask.ONLYDIR
        )
        try:
            self._inotify = Inotify()
            await self._watch_tree(self.root)
        except OSError as exc:
            await self.__aexit__()
            raise Unavailable(f"inotify: {exc.strerror}") from None
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None

    async def _watch_tree(self, top: Path) -> None:
        """Watch ``top`` and its subdirectories. Raises OSError ENOSPC at the watch limit."""
        assert self._inotify is not None
        assert self._mask is not None
        directories = await asyncio.to_thread(_directories, top)
        for directory in directories:
            try:
                self._inotify.add_watch(directory, self._mask)
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    raise
                continue  # gone again already: its parent's events tell

    async def events(self) -> AsyncIterator[FileEvent]:
        """The folder's events, as they come. Cancellation stops the iteration."""
        from asyncinotify import Mask

        assert self._inotify is not None
        async for event in self._inotify:
            if event.mask & Mask.Q_OVERFLOW:
                yield FileEvent("rescan")
                continue
            if event.path is None:
                continue
            if event.mask & Mask.ISDIR:
                if event.mask & (Mask.CREATE | Mask.MOVED_TO):
                    try:
                        await self._watch_tree(event.path)
                    except OSError:  # the watch limit: what is not watched is polled
                        yield FileEvent("poll")
                        return
                    yield FileEvent("rescan")
                continue
            relative = event.path.relative_to(self.root).as_posix()
            yield FileEvent(_kind(event.mask), relative)


def _kind(mask: Mask) -> EventKind:
    from asyncinotify import Mask

    if mask & Mask.MOVED_TO:
        return "renamed_in"
    if mask & (Mask.MOVED_FROM | Mask.DELETE):
        return "gone"
    if mask & Mask.CLOSE_WRITE:
        return "closed"
    if mask & Mask.CREATE:
        return "created"
    return "modified"


def _directories(top: Path) -> list[Path]:
    found = [top]
    for directory, subdirectories, _ in os.walk(top):
        found += [Path(directory) / name for name in subdirectories]
    return found
