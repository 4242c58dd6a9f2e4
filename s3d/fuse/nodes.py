"""The inode table: which inode number stands for which key or prefix.

Owns the mapping both ways (inode → node, (parent, name) → inode) and each node's kernel
lookup count. Invariants: the root is inode 1 and never forgotten; a node leaves the table only
when the kernel has forgotten every lookup of it (``forget``), so an inode number the kernel
holds always resolves; a name maps to at most one node, and a node whose key changed kind
(file ↔ directory) gets a new inode. Attributes carry an expiry (``metadata_ttl``) after which
they are asked for again.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import pyfuse3


@dataclass(slots=True)
class Node:
    ino: int
    parent: int
    name: str
    key: str
    """The object's key for a file; the prefix (empty or ending in ``/``) for a directory."""
    is_dir: bool
    size: int = 0
    mtime_ns: int = 0
    etag: str = ""
    expires: float = 0.0
    lookups: int = 0

    @property
    def fresh(self) -> bool:
        return time.monotonic() < self.expires


class Nodes:
    """Every node the kernel may ask about."""

    def __init__(self, prefix: str, ttl: float) -> None:
        self.ttl = ttl
        root = Node(pyfuse3.ROOT_INODE, pyfuse3.ROOT_INODE, "", prefix, True, expires=float("inf"))
        self._by_ino: dict[int, Node] = {root.ino: root}
        self._by_name: dict[tuple[int, str], int] = {}
        self._next = itertools.count(pyfuse3.ROOT_INODE + 1)

    def __len__(self) -> int:
        return len(self._by_ino)

    def get(self, ino: int) -> Node | None:
        return self._by_ino.get(ino)

    def child(self, parent: int, name: str) -> Node | None:
        ino = self._by_name.get((parent, name))
        return self._by_ino.get(ino) if ino is not None else None

    def find(self, key: str) -> Node | None:
        """The file node known for ``key``, if the kernel was ever told of it."""
        root = self._by_ino[pyfuse3.ROOT_INODE]
        if not key.startswith(root.key) or key.endswith("/"):
            return None
        node: Node | None = root
        for name in key[len(root.key) :].split("/"):
            node = self.child(node.ino, name) if node is not None else None
        return node if node is not None and not node.is_dir else None

    def learn(
        self, parent: Node, name: str, is_dir: bool, size: int = 0, mtime: int = 0, etag: str = ""
    ) -> Node:
        """The node for ``name`` in ``parent`` with these attributes, fresh for ``ttl``."""
        node = self.child(parent.ino, name)
        if node is None or node.is_dir != is_dir:
            key = parent.key + name + ("/" if is_dir else "")
            node = Node(next(self._next), parent.ino, name, key, is_dir)
            self._by_ino[node.ino] = node
            self._by_name[(parent.ino, name)] = node.ino
        node.size, node.mtime_ns, node.etag = size, mtime, etag
        node.expires = time.monotonic() + self.ttl
        return node

    def unlink(self, parent: int, name: str) -> None:
        """The name is gone; its node stays until the kernel forgets it."""
        ino = self._by_name.pop((parent, name), None)
        node = self._by_ino.get(ino) if ino is not None else None
        if node is not None and node.lookups <= 0:
            del self._by_ino[node.ino]

    def forget(self, ino: int, count: int) -> None:
        node = self._by_ino.get(ino)
        if node is None or ino == pyfuse3.ROOT_INODE:
            return
        node.lookups -= count
        if node.lookups > 0:
            return
        del self._by_ino[ino]
        if self._by_name.get((node.parent, node.name)) == ino:
            del self._by_name[(node.parent, node.name)]
