"""The pyfuse3 operations of a mount: each a thin call into the tree, the open files or the
open directories.

Every operation passes ``errno_edge`` (counted, failures made errnos). Read-only mounts refuse
changes with EROFS (the kernel also knows: the mount is ``ro``); what S3 cannot hold is refused
with EPERM (symlinks, hard links, device nodes, owners and modes) or ENOTSUP (renaming a
directory, rename flags). Times set with ``utimens`` are accepted and not kept: a file's time
is its object's Last-Modified.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import time
from collections import Counter
from collections.abc import Sequence
from typing import cast

import pyfuse3

from s3d.fuse.directories import Directories
from s3d.fuse.errors import errno_edge, refuse
from s3d.fuse.handles import Handles, wants_write
from s3d.fuse.names import decode
from s3d.fuse.nodes import Node
from s3d.fuse.options import MountOptions
from s3d.fuse.tree import Tree

Ctx = pyfuse3.RequestContext


class FileSystem(pyfuse3.Operations):
    def __init__(self, tree: Tree, handles: Handles, options: MountOptions) -> None:
        super().__init__()
        self.tree = tree
        self.handles = handles
        self.options = options
        self.counts: Counter[str] = Counter()
        self.dirs = Directories(tree, options)
        self.initialised = asyncio.Event()
        """Set once the kernel's INIT was answered: the connection's limits are settled."""

    def init(self) -> None:
        # Called inside the INIT request, before its reply: whoever waits runs after it.
        self.initialised.set()

    def _entry(self, node: Node, looked_up: bool = True) -> pyfuse3.EntryAttributes:
        if looked_up:
            node.lookups += 1  # the kernel holds one more reference until it forgets it
        return self.options.attributes(node)

    def _writable(self) -> None:
        if self.options.read_only:
            raise refuse(errno.EROFS)

    @errno_edge
    async def lookup(self, parent_inode: int, name: bytes, ctx: Ctx) -> pyfuse3.EntryAttributes:
        return self._entry(await self.tree.lookup(parent_inode, _text(name)))

    @errno_edge
    async def forget(self, inode_list: Sequence[tuple[int, int]]) -> None:
        for ino, count in inode_list:
            self.tree.nodes.forget(ino, count)

    @errno_edge
    async def getattr(self, inode: int, ctx: Ctx) -> pyfuse3.EntryAttributes:
        node = await self.tree.refresh(self.tree.node(inode))
        return self._entry(node, looked_up=False)

    @errno_edge
    async def setattr(
        self,
        inode: int,
        attr: pyfuse3.EntryAttributes,
        fields: pyfuse3.SetattrFields,
        fh: int | None,
        ctx: Ctx,
    ) -> pyfuse3.EntryAttributes:
        node = self.tree.node(inode)
        if fields.update_mode or fields.update_uid or fields.update_gid:
            raise refuse(errno.EPERM)
        if fields.update_size:
            self._writable()
            if node.is_dir:
                raise refuse(errno.EISDIR)
            await self._truncate(node, attr.st_size, fh)
        return self._entry(node, looked_up=False)

    async def _truncate(self, node: Node, size: int, fh: int | None) -> None:
        if fh is not None:
            await self.handles.truncate(fh, size)
            return
        # truncate(2) by path: a writer of its own, uploaded at once.
        opened = await self.handles.open_writer(node, truncate=size == 0)
        try:
            await self.handles.truncate(opened, size)
            await self.handles.flush(opened)
        finally:
            await self.handles.release(opened)

    @errno_edge
    async def opendir(self, inode: int, ctx: Ctx) -> int:
        return self.dirs.open(inode)

    @errno_edge
    async def readdir(self, fh: int, start_id: int, token: pyfuse3.ReaddirToken) -> None:
        await self.dirs.read(fh, start_id, token)

    @errno_edge
    async def releasedir(self, fh: int) -> None:
        self.dirs.release(fh)

    @errno_edge
    async def open(self, inode: int, flags: int, ctx: Ctx) -> pyfuse3.FileInfo:
        node = self.tree.node(inode)
        if node.is_dir:
            raise refuse(errno.EISDIR)
        if wants_write(flags):
            self._writable()
            fh = await self.handles.open_writer(node, truncate=bool(flags & os.O_TRUNC))
            return pyfuse3.FileInfo(fh=fh)
        fh, keep = await self.handles.open_reader(node)
        return pyfuse3.FileInfo(fh=fh, keep_cache=keep)

    @errno_edge
    async def create(
        self, parent_inode: int, name: bytes, mode: int, flags: int, ctx: Ctx
    ) -> tuple[pyfuse3.FileInfo, pyfuse3.EntryAttributes]:
        self._writable()
        parent = self.tree.directory(parent_inode)
        if not stat_regular(mode):
            raise refuse(errno.EPERM)
        node = self.tree.nodes.learn(parent, _text(name), False, 0, _now_ns())
        fh = await self.handles.open_writer(node, truncate=True)
        return pyfuse3.FileInfo(fh=fh), self._entry(node)

    @errno_edge
    async def read(self, fh: int, off: int, size: int) -> bytes:
        # A view of a mapped cache file, as often as not: pyfuse3 replies from any buffer
        # (its stub says bytes), and a view spares a copy of every byte read.
        return cast(bytes, await self.handles.read(fh, off, size))

    @errno_edge
    async def write(self, fh: int, off: int, buf: bytes) -> int:
        return await self.handles.write(fh, off, buf)

    @errno_edge
    async def flush(self, fh: int) -> None:
        await self.handles.flush(fh)

    @errno_edge
    async def fsync(self, fh: int, datasync: bool) -> None:
        await self.handles.flush(fh)

    @errno_edge
    async def release(self, fh: int) -> None:
        await self.handles.release(fh)

    @errno_edge
    async def unlink(self, parent_inode: int, name: bytes, ctx: Ctx) -> None:
        self._writable()
        await self.tree.unlink(parent_inode, _text(name))

    @errno_edge
    async def mkdir(
        self, parent_inode: int, name: bytes, mode: int, ctx: Ctx
    ) -> pyfuse3.EntryAttributes:
        self._writable()
        return self._entry(await self.tree.mkdir(parent_inode, _text(name)))

    @errno_edge
    async def rmdir(self, parent_inode: int, name: bytes, ctx: Ctx) -> None:
        self._writable()
        await self.tree.rmdir(parent_inode, _text(name))

    @errno_edge
    async def rename(
        self,
        parent_inode_old: int,
        name_old: bytes,
        parent_inode_new: int,
        name_new: bytes,
        flags: int,
        ctx: Ctx,
    ) -> None:
        self._writable()
        if flags:
            raise refuse(errno.ENOTSUP)  # RENAME_EXCHANGE, RENAME_NOREPLACE: not atomic here
        old, new = _text(name_old), _text(name_new)
        await self.tree.rename(parent_inode_old, old, parent_inode_new, new)

    @errno_edge
    async def symlink(
        self, parent_inode: int, name: bytes, target: bytes, ctx: Ctx
    ) -> pyfuse3.EntryAttributes:
        raise refuse(errno.EROFS if self.options.read_only else errno.EPERM)

    @errno_edge
    async def link(
        self, inode: int, new_parent_inode: int, new_name: bytes, ctx: Ctx
    ) -> pyfuse3.EntryAttributes:
        raise refuse(errno.EROFS if self.options.read_only else errno.EPERM)

    @errno_edge
    async def mknod(
        self, parent_inode: int, name: bytes, mode: int, rdev: int, ctx: Ctx
    ) -> pyfuse3.EntryAttributes:
        raise refuse(errno.EROFS if self.options.read_only else errno.EPERM)

    @errno_edge
    async def statfs(self, ctx: Ctx) -> pyfuse3.StatvfsData:
        data = pyfuse3.StatvfsData()
        data.f_bsize = data.f_frsize = 4096
        data.f_blocks = data.f_bfree = data.f_bavail = 1 << 40  # S3 has no capacity to show
        data.f_files = data.f_ffree = data.f_favail = 1 << 32
        data.f_namemax = 255
        return data


def _text(name: bytes) -> str:
    try:
        return decode(name)
    except UnicodeDecodeError:
        raise refuse(errno.EINVAL) from None  # S3 keys are UTF-8


def stat_regular(mode: int) -> bool:
    return stat.S_ISREG(mode) or stat.S_IFMT(mode) == 0


def _now_ns() -> int:
    return time.time_ns()
