"""What one sync folder knows of its files, shared by its rescans, takes and settlements.

Owns, for one directory: the files waiting for completion (a ``Seen`` each), the markers
present and those whose files have all gone up, the journal jobs of the files taken in
(seq -> path and identity), the files the filter left out, the failures, and the uploads the
journal reported and the folder has not settled yet. Invariants: a path is in at most one of
``waiting``, ``taken`` and ``filtered``; every seq of ``pending`` is a put this folder recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from s3d.sync.completion import Seen
from s3d.sync.ingest import Identity

UNKNOWN = -1
"""Size and mtime of a file an event named before the folder looked at it."""


@dataclass(slots=True)
class FolderState:
    waiting: dict[str, Seen] = field(default_factory=dict)
    markers: set[str] = field(default_factory=set)
    used_markers: set[str] = field(default_factory=set)
    """Markers that released a file since uploaded: they go once all their files have."""
    pending: dict[int, tuple[str, Identity, float]] = field(default_factory=dict)
    """Journal seq -> the file's path, its identity, and when it was recorded (monotonic)."""
    taken: dict[str, Identity] = field(default_factory=dict)
    filtered: dict[str, Identity] = field(default_factory=dict)
    """Complete files the filter excluded, as they were then (a change asks it again)."""
    failed: dict[str, str] = field(default_factory=dict)
    reported: list[int] = field(default_factory=list)
    """Seqs the journal reported uploaded, any writer's: settled at the next round."""
    ingesting: bool = False
    scanning: bool = False
    touched: set[str] = field(default_factory=set)
    """Paths events named since the current rescan began: the walk may predate them."""
    seen: int = 0
    uploaded: int = 0

    def new(self, path: str, seen: Seen) -> Seen:
        """``seen`` for a file the folder did not know: counted, its old failure forgotten."""
        self.seen += 1
        self.failed.pop(path, None)
        self.filtered.pop(path, None)
        return seen

    def status(self, dead: set[int], watching: str) -> dict[str, object]:
        """The folder's ``s3d status`` counts; ``dead``: the journal's dead-lettered seqs."""
        return {
            "watching": watching,
            "files_seen": self.seen,
            "waiting_for_completion": len(self.waiting),
            "pending_upload": len(self.pending) + int(self.ingesting),
            "uploaded": self.uploaded,
            "filtered_out": len(self.filtered),
            "failed": len(self.failed) + len(dead & self.pending.keys()),
        }
