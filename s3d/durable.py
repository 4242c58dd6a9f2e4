"""Making a rename or a new file survive a crash: the fsync of a directory.

A file written, fsynced and renamed into place is durable only once its directory is fsynced
too (the rename is an entry of the directory). Every store that moves files into place (the
staging area, the cache's data files, the journal's files) does it here. Blocking: call from a
worker thread (``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush ``path``'s directory entries (renames, creations, removals) to disk. Raises
    OSError (the directory is gone, the disk failed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
