"""What happens to a folder's file once the remote has it: kept, deleted, or moved away.

Only ever called after the journal reported the file's put uploaded and the ledger recorded
it. The file is touched only while it is still the one taken in (same inode, size and mtime):
an exporter that wrote a new version under the same name meanwhile keeps it. A removal or
move is made durable with an fsync of the directories involved. Blocking: run in a thread.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

from s3d.durable import fsync_dir
from s3d.sync.ingest import Identity
from s3d.sync.spec import FolderSpec

log = logging.getLogger("s3d.sync")


def finish(spec: FolderSpec, path: str, identity: Identity | None) -> bool:
    """Apply the folder's ``after`` to ``path`` (relative); True when it is done with (kept,
    deleted, moved, or already gone), False when the file is another version now.
    ``identity`` None: a marker, taken as it is."""
    if spec.after == "keep":
        return True
    source = spec.directory / path
    try:
        if identity is not None and Identity.of(source) != identity:
            log.info("%s changed since it was uploaded: left in place", source)
            return False
    except FileNotFoundError:
        return True
    if spec.after == "delete":
        source.unlink(missing_ok=True)
    else:
        assert spec.done_dir is not None
        _move(source, spec.done_dir / path)
    fsync_dir(source.parent)
    return True


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # Another file system: copy, flush, then remove the original.
        shutil.copy2(source, target)
        with open(target, "rb") as file:
            os.fsync(file.fileno())
        source.unlink()
    fsync_dir(target.parent)
