"""When a file in a sync folder is complete: the three rules, as a pure decision.

Theory of operation. The watcher keeps, for each file of the folder, what it saw last: size,
mtime, whether the file arrived by a rename (inotify's ``IN_MOVED_TO``), whether a writer
still has it open (an ``IN_MODIFY`` or ``IN_CREATE`` not yet followed by ``IN_CLOSE_WRITE``),
and when any of that last changed (``changed_at``, the daemon's clock, never the file's mtime:
tools set mtimes into the past, and other hosts' clocks drift). ``complete`` then says which
files may be uploaded now:

- ``renamed``: a file renamed into the folder is complete at once (the exporter wrote it under
  a temporary name first). A file found any other way — written in place, or found by a
  rescan after events were lost — falls back to the quiet rule: a rescan never releases a file
  that may still be growing.
- ``quiet``: no writer holds it open and it has not changed for ``quiet`` seconds, as rclone's
  ``--min-age``.
- ``marker``: a marker releases files once it exists: a marker matching a glob that starts
  with ``*`` (``*.done``) releases its sibling (``export.csv.done`` → ``export.csv``); any
  other (``_SUCCESS``) releases every file of its directory and below (Hadoop's convention).
  A released file must still be closed by its writer.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from s3d.sync.spec import FolderSpec


@dataclass(frozen=True, slots=True)
class Seen:
    size: int
    mtime_ns: int
    changed_at: float
    renamed_in: bool = False
    writing: bool = False
    ino: int = -1
    """The inode last seen (-1: not looked at yet)."""


def complete(
    spec: FolderSpec, files: Mapping[str, Seen], markers: Iterable[str], now: float
) -> list[str]:
    """The files (relative paths) complete at ``now`` under the folder's rule."""
    released = _released(spec, files, markers) if spec.complete == "marker" else set()
    done = []
    for path, seen in files.items():
        if seen.writing:
            continue
        if spec.complete == "marker":
            ok = path in released
        else:
            quiet = now - seen.changed_at >= spec.quiet
            ok = quiet or (spec.complete == "renamed" and seen.renamed_in)
        if ok:
            done.append(path)
    return sorted(done)


def released_by(spec: FolderSpec, marker: str, files: Iterable[str]) -> set[str]:
    """The files ``marker`` (a relative path) releases among ``files``."""
    where = PurePosixPath(marker)
    name = where.name
    for glob in spec.markers:
        if not fnmatch.fnmatchcase(name, glob):
            continue
        if glob.startswith("*") and name.endswith(glob[1:]) and len(name) > len(glob) - 1:
            sibling = str(where.parent / name[: len(name) - len(glob) + 1])
            return {sibling.removeprefix("./")} & set(files)
        directory = where.parent
        return {f for f in files if directory == PurePosixPath(".") or _under(f, directory)}
    return set()


def _released(spec: FolderSpec, files: Mapping[str, Seen], markers: Iterable[str]) -> set[str]:
    released: set[str] = set()
    for marker in markers:
        released |= released_by(spec, marker, files.keys())
    return released


def _under(path: str, directory: PurePosixPath) -> bool:
    return PurePosixPath(path).is_relative_to(directory)
