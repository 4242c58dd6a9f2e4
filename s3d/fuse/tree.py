"""The namespace of a mount: names to keys, directories implied by ``/``, and the changes to
names (mkdir, rmdir, unlink, rename), each through the gateway.

Owns the directories made with ``mkdir`` and still empty (local only: S3 has no directories;
one appears at the remote with its first file) and the files open for writing that have not
been uploaded yet (``writers``, so that ``stat`` and ``ls`` see them at once). A name is a
directory when some key starts with it and ``/`` (directories shadow a file of the same name,
as in mountpoint-s3), else a file when its key exists.
"""

from __future__ import annotations

import asyncio
import errno

from s3d.fuse.errors import refuse
from s3d.fuse.names import representable
from s3d.fuse.nodes import Node, Nodes
from s3d.fuse.objects import Objects
from s3d.fuse.scratch import Scratch


class Tree:
    """Lookups and name changes. Every method raises FUSEError or S3Error."""

    def __init__(self, objects: Objects, nodes: Nodes) -> None:
        self.objects = objects
        self.nodes = nodes
        self.local_dirs: set[str] = set()
        self.writers: dict[str, Scratch] = {}
        self.hidden = 0
        """Keys seen in listings that cannot be file names, and so are not shown."""

    def node(self, ino: int) -> Node:
        found = self.nodes.get(ino)
        if found is None:
            raise refuse(errno.ENOENT)
        return found

    def directory(self, ino: int) -> Node:
        found = self.node(ino)
        if not found.is_dir:
            raise refuse(errno.ENOTDIR)
        return found

    async def lookup(self, parent_ino: int, name: str) -> Node:
        """The node for ``name`` in the directory ``parent_ino``; ENOENT when there is none."""
        parent = self.directory(parent_ino)
        if not representable(name):
            raise refuse(errno.ENOENT)
        known = self.nodes.child(parent.ino, name)
        if known is not None and known.fresh:
            return known
        key = parent.key + name
        if key in self.writers:
            return self.nodes.learn(parent, name, False, self.writers[key].size)
        head, below = await asyncio.gather(
            self.objects.head(key), self.objects.page(key + "/", keys=1)
        )
        if below.contents or below.common_prefixes or key + "/" in self.local_dirs:
            return self.nodes.learn(parent, name, True)
        if head is None:
            raise refuse(errno.ENOENT)
        return self.nodes.learn(parent, name, False, head.size, head.mtime_ns, head.etag)

    async def refresh(self, node: Node) -> Node:
        """``node`` with current attributes: a HEAD once they are older than the TTL."""
        if node.is_dir or node.fresh:
            return node
        writer = self.writers.get(node.key)
        if writer is not None:
            node.size = writer.size
            return node
        parent = self.directory(node.parent)
        head = await self.objects.head(node.key)
        if head is None:
            raise refuse(errno.ENOENT)
        return self.nodes.learn(parent, node.name, False, head.size, head.mtime_ns, head.etag)

    async def exists(self, parent_ino: int, name: str) -> bool:
        try:
            await self.lookup(parent_ino, name)
        except Exception as exc:
            if getattr(exc, "errno", None) == errno.ENOENT:
                return False
            raise
        return True

    async def mkdir(self, parent_ino: int, name: str) -> Node:
        """A directory kept locally until a file is written in it."""
        parent = self.directory(parent_ino)
        if not representable(name):
            raise refuse(errno.EINVAL)
        if await self.exists(parent_ino, name):
            raise refuse(errno.EEXIST)
        self.local_dirs.add(parent.key + name + "/")
        return self.nodes.learn(parent, name, True)

    async def rmdir(self, parent_ino: int, name: str) -> None:
        node = await self.lookup(parent_ino, name)
        if not node.is_dir:
            raise refuse(errno.ENOTDIR)
        prefix = node.key
        page = await self.objects.page(prefix, delimiter=None, keys=2)
        marker = any(entry.key == prefix for entry in page.contents)
        inside = [e for e in page.contents if e.key != prefix]
        local = [d for d in self.local_dirs if d.startswith(prefix) and d != prefix]
        if inside or local or any(k.startswith(prefix) for k in self.writers):
            raise refuse(errno.ENOTEMPTY)
        if marker:
            await self.objects.delete(prefix)  # the "dir/" object some tools create
        self.local_dirs.discard(prefix)
        self.nodes.unlink(parent_ino, name)

    async def unlink(self, parent_ino: int, name: str) -> None:
        node = await self.lookup(parent_ino, name)
        if node.is_dir:
            raise refuse(errno.EISDIR)
        await self.objects.delete(node.key)
        writer = self.writers.pop(node.key, None)
        if writer is not None:
            writer.unlinked = True  # its bytes are not uploaded at close: the name is gone
        self.nodes.unlink(parent_ino, name)

    async def rename(self, old_parent: int, old: str, new_parent: int, new: str) -> None:
        """A file's rename: a copy, then a delete of the old key (not atomic)."""
        node = await self.lookup(old_parent, old)
        if node.is_dir:
            raise refuse(errno.ENOTSUP)  # a prefix's rename is a copy of every key under it
        if node.key in self.writers:
            raise refuse(errno.EBUSY)  # still being written: its bytes are not uploaded yet
        target_parent = self.directory(new_parent)
        if not representable(new):
            raise refuse(errno.EINVAL)
        target = self.nodes.child(new_parent, new)
        if target is not None and target.is_dir:
            raise refuse(errno.EISDIR)
        key = target_parent.key + new
        if key != node.key:
            await self.objects.copy(node.key, key)
            await self.objects.delete(node.key)
        self.nodes.unlink(old_parent, old)
        self.nodes.unlink(new_parent, new)
        self.made_file(target_parent)

    def made_file(self, parent: Node) -> None:
        """A file now exists in ``parent``: it and its ancestors exist at the remote too."""
        prefix = parent.key
        self.local_dirs = {d for d in self.local_dirs if not prefix.startswith(d)}
