"""Open files: readers served through the cache, writers staged and uploaded at close.

Owns the open handles. A reader reads byte ranges through the gateway (the cache fetches only
the blocks a read touches) and lets the kernel keep its page cache while the object's ETag is
the one it had at the previous open. A writer writes into a ``Scratch`` file; ``flush``
(every ``close``) and ``fsync`` upload it as one PUT through the gateway — in write-back mode
a journaled PUT, durable on local disk when they return. A writer that did not truncate
brings the object's bytes into its scratch file before its first write (random writes,
appends). Failures of a PUT are answered to ``close``/``fsync`` as errnos: never lost silently.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from s3d.fuse.coherence import Coherence
from s3d.fuse.errors import refuse
from s3d.fuse.nodes import Node
from s3d.fuse.readahead import Buffer, Readahead
from s3d.fuse.scratch import Scratch
from s3d.fuse.tree import Tree
from s3d.protocol import operations as ops
from s3d.protocol.model import ObjectResponse

log = logging.getLogger("s3d.fuse")


@dataclass(slots=True)
class Reader:
    node: Node
    ahead: Readahead


@dataclass(slots=True)
class Writer:
    node: Node
    scratch: Scratch
    loaded: bool
    """Whether the scratch file holds the object's bytes (new, truncated, or fetched)."""


class Handles:
    """Every open file of a mount. Methods raise FUSEError, S3Error or OSError."""

    def __init__(self, tree: Tree, scratch_dir: Path) -> None:
        self._tree = tree
        self._dir = scratch_dir
        self._open: dict[int, Reader | Writer] = {}
        self._numbers = itertools.count(1)
        self._etags_seen: dict[int, str] = {}
        self.coherence = Coherence(tree.nodes, tree.objects.bucket, self._drop_kept)

    def _get(self, fh: int) -> Reader | Writer:
        handle = self._open.get(fh)
        if handle is None:
            raise refuse(errno.EBADF)
        return handle

    async def open_reader(self, node: Node) -> tuple[int, bool]:
        """A reader's handle, and whether the kernel may keep the pages it cached."""
        node = await self._tree.refresh(node)
        keep = bool(node.etag) and self._etags_seen.get(node.ino) == node.etag
        self._etags_seen[node.ino] = node.etag
        key, objects, coherence = node.key, self._tree.objects, self.coherence

        async def fetch(first: int, last: int) -> Buffer:
            data, etag = await objects.read(key, first, last)
            coherence.changed(node, etag)  # the cache found a new object at the remote
            return data

        return self._add(Reader(node, Readahead(fetch, node.size))), keep

    async def open_writer(self, node: Node, truncate: bool) -> int:
        scratch = await Scratch.create(self._dir)
        writer = Writer(node, scratch, loaded=truncate)
        if truncate:
            await scratch.truncate(0)
        else:
            scratch.size = node.size
        self._tree.writers[node.key] = scratch
        return self._add(writer)

    def _drop_kept(self, node: Node) -> None:
        self._etags_seen.pop(node.ino, None)
        for handle in self._open.values():
            if isinstance(handle, Reader) and handle.node.ino == node.ino:
                handle.ahead.drop()

    def _add(self, handle: Reader | Writer) -> int:
        fh = next(self._numbers)
        self._open[fh] = handle
        return fh

    async def read(self, fh: int, offset: int, size: int) -> Buffer:
        handle = self._get(fh)
        if isinstance(handle, Writer):
            await self._load(handle)
            return await handle.scratch.read(offset, size)
        return await handle.ahead.read(offset, size)

    async def write(self, fh: int, offset: int, data: bytes) -> int:
        handle = self._writer(fh)
        await self._load(handle)
        written = await handle.scratch.write(offset, data)
        handle.node.size = handle.scratch.size
        return written

    async def truncate(self, fh: int, size: int) -> None:
        handle = self._writer(fh)
        if size > 0:
            await self._load(handle)
        handle.loaded = True
        await handle.scratch.truncate(size)
        handle.node.size = size

    def _writer(self, fh: int) -> Writer:
        handle = self._get(fh)
        if not isinstance(handle, Writer):
            raise refuse(errno.EBADF)
        return handle

    async def _load(self, writer: Writer) -> None:
        """Bring the object's current bytes into the scratch file, once."""
        if writer.loaded:
            return
        objects = self._tree.objects
        answer = await objects.gateway.execute(ops.GetObject(objects.bucket, writer.node.key))
        assert isinstance(answer, ObjectResponse)
        await writer.scratch.fill(answer)
        writer.loaded = True

    async def flush(self, fh: int) -> None:
        """Upload what was written since the last upload (``close`` and ``fsync``)."""
        handle = self._get(fh)
        if isinstance(handle, Writer) and handle.scratch.dirty and not handle.scratch.unlinked:
            await self._upload(handle)

    async def _upload(self, writer: Writer) -> None:
        scratch, objects = writer.scratch, self._tree.objects
        await objects.gateway.admit(scratch.size)
        scratch.dirty = False  # writes arriving during the upload make it dirty again
        try:
            await objects.put(writer.node.key, await scratch.stage())
        except BaseException:
            scratch.dirty = True
            raise
        writer.node.expires = 0.0  # the next stat asks for the new ETag and date
        parent = self._tree.nodes.get(writer.node.parent)
        if parent is not None:
            self._tree.made_file(parent)

    async def release(self, fh: int) -> None:
        handle = self._open.pop(fh, None)
        if not isinstance(handle, Writer):
            return
        try:
            if handle.scratch.dirty and not handle.scratch.unlinked:
                # The upload at close failed (and was reported): one more try, only logged.
                await self._upload(handle)
        except Exception:
            log.exception("fuse: %s could not be uploaded at release", handle.node.key)
        finally:
            if self._tree.writers.get(handle.node.key) is handle.scratch:
                del self._tree.writers[handle.node.key]
            await handle.scratch.close()

    async def close_all(self) -> None:
        for fh in list(self._open):
            await self.release(fh)
        await self.coherence.aclose()


def wants_write(flags: int) -> bool:
    return flags & os.O_ACCMODE != os.O_RDONLY
