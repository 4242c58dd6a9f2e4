"""A full rescan of a sync folder: what is there, against what the folder and the ledger know.

Done at start (events were lost while the daemon was down), after an inotify overflow or a
new subdirectory, every ``rescan_interval``, and — for a polled folder — every
``poll_interval``: then it is how the folder learns of files at all. A file found that the
folder does not know waits for completion (a rescan never completes a file by itself: the
quiet period starts now). What the walk did not find is forgotten, unless an event named it
since the walk began. A file the ledger knows uploaded, not yet deleted or moved (a crash in
between), is finished now and not uploaded again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from s3d.sync.completion import Seen
from s3d.sync.ingest import Identity
from s3d.sync.ledger import Ledger
from s3d.sync.spec import FolderSpec, is_marker, wanted
from s3d.sync.state import FolderState

Finish = Callable[[str, Identity], Awaitable[None]]


async def rescan(
    spec: FolderSpec, state: FolderState, ledger: Ledger, now: float, finish: Finish
) -> None:
    """Walk the folder and bring ``state`` up to date. Raises OSError (the folder is gone)
    and the ledger's errors; cancelled, ``state`` is as before the walk."""
    state.touched, state.scanning = set(), True
    try:
        found = await asyncio.to_thread(walk, spec.directory)
        rows = await ledger.rows(spec.name)
        await ledger.remove(spec.name, [p for p in rows if p not in found])
    finally:
        state.scanning = False
    touched = state.touched
    state.markers = {p for p in found if is_marker(spec, p)} | (state.markers & touched)
    state.waiting = {p: s for p, s in state.waiting.items() if p in found or p in touched}
    state.filtered = {p: i for p, i in state.filtered.items() if p in found}
    for path, identity in found.items():
        if not wanted(spec, path) or identity in (state.taken.get(path), state.filtered.get(path)):
            continue
        if rows.get(path) == identity:
            if spec.after != "keep":  # uploaded before a crash, not yet deleted or moved
                await finish(path, identity)
            continue
        if path not in state.waiting:
            seen = Seen(identity.size, identity.mtime_ns, now, ino=identity.ino)
            state.waiting[path] = state.new(path, seen)


def walk(root: Path) -> dict[str, Identity]:
    """Every file below ``root`` by relative path (blocking: run in a thread)."""
    found = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            with contextlib.suppress(FileNotFoundError):
                if path.is_file():
                    found[path.relative_to(root).as_posix()] = Identity.of(path)
    return found


def stats(root: Path, paths: list[str]) -> list[Identity | None]:
    """The identity of each path (None: gone), blocking: run in a thread."""
    found: list[Identity | None] = []
    for path in paths:
        try:
            found.append(Identity.of(root / path))
        except FileNotFoundError:
            found.append(None)
    return found
