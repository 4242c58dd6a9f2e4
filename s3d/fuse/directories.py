"""The open directories of a mount and the replies to ``readdir``.

Owns the directory handles (each a ``DirReader`` holding one page of the merged listing).
Replies are readdirplus: every entry carries its attributes, and an entry the kernel took
counts as a lookup of its node (the kernel will ``forget`` it), ``.`` and ``..`` excepted.
"""

from __future__ import annotations

import itertools

import pyfuse3

from s3d.fuse.listing import DirReader
from s3d.fuse.names import encode
from s3d.fuse.options import MountOptions
from s3d.fuse.tree import Tree


class Directories:
    """Directory handles. Methods raise FUSEError or S3Error (the listing failed)."""

    def __init__(self, tree: Tree, options: MountOptions) -> None:
        self._tree = tree
        self._options = options
        self._open: dict[int, DirReader] = {}
        self._numbers = itertools.count(1)

    def open(self, inode: int) -> int:
        fh = next(self._numbers)
        self._open[fh] = DirReader(self._tree, self._tree.directory(inode))
        return fh

    async def read(self, fh: int, start_id: int, token: pyfuse3.ReaddirToken) -> None:
        """Entries from number ``start_id`` on, until the kernel's buffer is full."""
        reader, tree, attributes = self._open[fh], self._tree, self._options.attributes
        index = start_id
        while (entry := await reader.at(index)) is not None:
            index += 1
            if entry.name in (".", ".."):
                ino = reader.node.ino if entry.name == "." else reader.node.parent
                attrs = attributes(tree.node(ino))
                if not pyfuse3.readdir_reply(token, encode(entry.name), attrs, index):
                    return
                continue
            node = tree.nodes.learn(
                reader.node, entry.name, entry.is_dir, entry.size, entry.mtime, entry.etag
            )
            if not pyfuse3.readdir_reply(token, encode(entry.name), attributes(node), index):
                return
            node.lookups += 1  # readdirplus: an entry the kernel took is a lookup

    def release(self, fh: int) -> None:
        self._open.pop(fh, None)
