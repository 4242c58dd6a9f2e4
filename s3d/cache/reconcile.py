"""Data files against the index, at start: what a crash or an outside hand may have left.

Runs in a worker thread (it lists and stats every data file).
"""

from __future__ import annotations

import os

from s3d.cache.datafile import PART, DataFiles


def reconcile(
    files: DataFiles, layouts: dict[str, tuple[int, int]], stored: dict[str, int]
) -> tuple[int, list[str]]:
    """Remove files no entry names (``.part`` files of fills cut short included); list the
    entries whose blocks were recorded but whose file is missing or of the wrong size.
    Returns (orphan files removed, broken entry ids)."""
    found = files.scan()
    orphans = 0
    for name, path in found.items():
        if name.endswith(PART) or name not in layouts:
            path.unlink(missing_ok=True)
            orphans += 1
    broken = []
    for entry_id, (size, _block_size) in layouts.items():
        if stored.get(entry_id, 0) == 0:
            continue
        file = found.get(entry_id)
        if file is None or os.stat(file).st_size != size:
            broken.append(entry_id)
    return orphans, broken
