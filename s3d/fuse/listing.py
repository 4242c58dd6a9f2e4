"""Reading a directory: the merged listing, one page at a time.

A directory handle holds one page (``PAGE``, 999 keys) of the listing with delimiter ``/``, so a
prefix of 100,000 keys lists without holding them all. Entries are numbered in listing order
(``.`` and ``..`` first, then the remote's names, then what exists only here: empty directories
made with mkdir and files still being written); the kernel resumes at a number, and a number
before the held page restarts the listing (``rewinddir``).
"""

from __future__ import annotations

from dataclasses import dataclass

from s3d.fuse.names import child_name, representable
from s3d.fuse.nodes import Node
from s3d.fuse.objects import mtime_ns
from s3d.fuse.tree import Tree


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    is_dir: bool
    size: int = 0
    mtime: int = 0
    etag: str = ""


class DirReader:
    """One open directory. ``at`` raises S3Error when the listing fails."""

    def __init__(self, tree: Tree, node: Node) -> None:
        self._tree = tree
        self.node = node
        self._reset()

    def _reset(self) -> None:
        self._base = 0
        self._window: list[Entry] = [Entry(".", True), Entry("..", True)]
        self._token: str | None = None
        self._remote_done = False
        self._finished = False
        self._extras = self._local_names()

    def _local_names(self) -> dict[str, Entry]:
        prefix, tree = self.node.key, self._tree
        found: dict[str, Entry] = {}
        for directory in tree.local_dirs:
            name = child_name(prefix, directory) if directory.startswith(prefix) else None
            if name is not None and "/" not in name:
                found[name] = Entry(name, True)
        for key, scratch in tree.writers.items():
            name = child_name(prefix, key) if key.startswith(prefix) else None
            if name is not None and "/" not in name:
                found[name] = Entry(name, False, scratch.size)
        return found

    async def at(self, index: int) -> Entry | None:
        """Entry number ``index``; None past the end."""
        if index < self._base:
            self._reset()
        while index >= self._base + len(self._window):
            if self._finished:
                return None
            self._base += len(self._window)
            self._window = await self._next_page()
        return self._window[index - self._base]

    async def _next_page(self) -> list[Entry]:
        if self._remote_done:
            self._finished = True
            return sorted(self._extras.values(), key=lambda e: e.name)
        page = await self._tree.objects.page(self.node.key, self._token)
        self._token = page.next_continuation_token
        self._remote_done = not page.is_truncated or not self._token
        entries: dict[str, Entry] = {}
        for entry in page.contents:
            name = child_name(self.node.key, entry.key)
            if name is not None:
                size, mtime = entry.size, mtime_ns(entry.last_modified)
                entries[name] = Entry(name, False, size, mtime, entry.etag)
        for common in page.common_prefixes:
            name = child_name(self.node.key, common)
            if name is not None:
                entries[name] = Entry(name, True)  # a directory shadows a file of its name
        shown = []
        for name in sorted(entries):
            if not representable(name):
                self._tree.hidden += 1
                continue
            self._extras.pop(name, None)
            shown.append(entries[name])
        return shown
