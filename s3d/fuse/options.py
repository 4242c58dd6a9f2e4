"""A mount's options, resolved once from the settings at start."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

import pyfuse3

from s3d.fuse.nodes import Node
from s3d.settings import FuseSettings


@dataclass(frozen=True, slots=True)
class MountOptions:
    read_only: bool
    ttl: float
    uid: int
    gid: int
    file_mode: int
    dir_mode: int
    allow_other: bool

    @classmethod
    def of(cls, settings: FuseSettings) -> MountOptions:
        return cls(
            read_only=settings.read_only,
            ttl=settings.metadata_ttl,
            uid=settings.uid if settings.uid >= 0 else os.getuid(),
            gid=settings.gid if settings.gid >= 0 else os.getgid(),
            file_mode=settings.file_mode & 0o7777,
            dir_mode=settings.dir_mode & 0o7777,
            allow_other=settings.allow_other,
        )

    def kernel_options(self, fsname: str) -> set[str]:
        """The options given to the kernel: the kernel checks permissions from our modes."""
        chosen = set(pyfuse3.default_options) | {f"fsname={fsname}", "subtype=s3d"}
        if self.read_only:
            chosen.add("ro")
        if self.allow_other:
            chosen.add("allow_other")
        return chosen

    def attributes(self, node: Node) -> pyfuse3.EntryAttributes:
        """What ``stat`` shows of ``node``; the kernel keeps it for ``ttl`` seconds."""
        entry = pyfuse3.EntryAttributes()
        entry.st_ino = node.ino
        if node.is_dir:
            entry.st_mode = stat.S_IFDIR | self.dir_mode
            entry.st_nlink = 2
        else:
            entry.st_mode = stat.S_IFREG | self.file_mode
            entry.st_nlink = 1
        entry.st_uid, entry.st_gid = self.uid, self.gid
        entry.st_size = node.size
        entry.st_blksize = 128 * 1024
        entry.st_blocks = (node.size + 511) // 512
        entry.st_atime_ns = entry.st_mtime_ns = entry.st_ctime_ns = node.mtime_ns
        entry.entry_timeout = entry.attr_timeout = self.ttl
        entry.generation = 0
        return entry
