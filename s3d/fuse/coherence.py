"""Keeping what the kernel holds of a mount true to the objects: its page cache, the
attributes and the names it looked up.

The kernel keeps a file's pages across opens (``keep_cache``, while the ETag is the one of the
previous open) and its names and attributes for ``fuse.metadata_ttl``. s3d tells it to drop
them as soon as s3d learns a key changed: a write through s3d (an S3 PUT, COPY or DELETE; the
gateway's watchers), or a read finding another ETag than the one the file was opened with (the
cache revalidated it and found a new object at the remote).

Owns the kernel notifications in flight. Invariants: after ``written`` returns for a write made
over S3, the next ``open``/``stat`` of the name asks s3d again and the next open does not keep
the kernel's pages. A notification is never waited for inside a FUSE request: the kernel may
need that very request answered before it can drop a page it locked, so such notifications go
to a background thread and are waited for only at close.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import Callable

import pyfuse3

from s3d.fuse.errors import in_request
from s3d.fuse.names import encode
from s3d.fuse.nodes import Node, Nodes

log = logging.getLogger("s3d.fuse")


class Coherence:
    """Drops what the kernel and the inode table keep of changed keys. Never raises."""

    def __init__(self, nodes: Nodes, bucket: str, drop_kept: Callable[[Node], None]) -> None:
        """``drop_kept``: forget what the open files keep of a node (the ETag seen at the last
        open, the bytes of the last fetch)."""
        self._nodes = nodes
        self._bucket = bucket
        self._drop_kept = drop_kept
        self._pending: set[asyncio.Future[None]] = set()
        self.notified = 0
        """Kernel notifications sent (for ``s3d status``)."""

    async def written(self, bucket: str, key: str) -> None:
        """A gateway watcher: ``key`` of ``bucket`` was written through s3d."""
        node = self._nodes.find(key) if bucket == self._bucket else None
        if node is None:
            return
        self._forget(node)
        if in_request.get():
            # The mount's own write (close, unlink, rename): the kernel made the change itself.
            return
        await self._notify(node)

    def changed(self, node: Node, etag: str) -> None:
        """A read found ``node``'s object under another ETag: drop the kernel's copy (later)."""
        if not etag or not node.etag or etag.strip('"') == node.etag.strip('"'):
            return  # (a listing's ETag and a HEAD's are compared unquoted, to be sure)
        self._forget(node)
        node.etag = etag
        future = asyncio.ensure_future(self._notify(node))
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _forget(self, node: Node) -> None:
        node.expires = 0.0  # the next lookup, stat and open ask again
        self._drop_kept(node)  # the next open does not keep the pages, nor a reader its bytes

    async def _notify(self, node: Node) -> None:
        self.notified += 1
        await asyncio.to_thread(_invalidate, node.ino, node.parent, encode(node.name))

    async def aclose(self) -> None:
        """Wait for the notifications still in flight (each ends once the kernel took it)."""
        for future in list(self._pending):
            with contextlib.suppress(Exception):
                await future


def _invalidate(ino: int, parent: int, name: bytes) -> None:
    """The kernel forgets the inode's attributes and pages, then the name (blocking)."""
    _quietly(pyfuse3.invalidate_inode, ino)
    _quietly(pyfuse3.invalidate_entry, parent, name)


def _quietly(notify: Callable[..., None], *args: object) -> None:
    try:
        notify(*args)
    except OSError as exc:  # ENOENT: the kernel did not hold it
        if exc.errno not in (errno.ENOENT, errno.ENOTCONN, errno.EBADF):
            log.warning("fuse: the kernel could not drop its copy (%s): %s", args, exc)
