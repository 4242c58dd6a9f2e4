"""The digests a sync folder's file enters the journal with, hashed on several threads at once.

What the journal needs depends on the file's size. At most ``journal.multipart_threshold``:
the MD5 of the whole (the ETag of its PutObject). Above it: the MD5 of each
``journal.part_size`` part (the layout it is uploaded in, whose MD5-of-MD5s is its ETag) —
not the MD5 of the whole, which nothing of a multipart upload uses (the remote neither checks
nor gives it). The SHA-256 only when asked: a copy from another file system is checked by it
against the source; a hard-linked file is the source, and nothing downstream reads a
journalled put's SHA-256 (uploads send Content-MD5), so it would be a pass for nothing.

Why several threads: hashing is what a sync folder adds to an upload (the file is linked, not
copied), the upload cannot start before the journal has the ETag, and ``hashlib`` releases
the GIL on large buffers. A large file's part MD5s are hashed on ``PART_THREADS`` threads,
each taking every other part; the SHA-256, when asked, on one more. Each thread reads the
file itself: the other reads come from the page cache.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from s3d.journal.records import Part

CHUNK = 1 << 20
PART_THREADS = 2
"""Threads sharing a large file's part MD5s (parts are hashed independently): the machine's
cores, or on a busy machine each thread's share of one."""


@dataclass(frozen=True, slots=True)
class Digests:
    md5: bytes
    """Of the whole file; empty when it goes as parts."""
    sha256: bytes
    """Empty unless asked for."""
    parts: tuple[Part, ...]
    """The MD5 of each part; empty when it goes as one PutObject."""


async def file_digests(path: Path, part_size: int | None, sha256: bool = False) -> Digests:
    """The digests of ``path``: part MD5s of ``part_size`` parts, or (None) the whole MD5;
    its SHA-256 too when ``sha256`` (else empty). Raises OSError. Cancelled, the threads read
    on to the end and their results are lost."""
    whole = asyncio.to_thread(sha256_of, path) if sha256 else _nothing()
    if part_size is None:
        md5, digest = await asyncio.gather(asyncio.to_thread(_md5_of, path), whole)
        return Digests(md5, digest, ())
    size = await asyncio.to_thread(os.path.getsize, path)
    layout = [(offset, min(part_size, size - offset)) for offset in range(0, size, part_size)]
    md5s = asyncio.gather(
        *(asyncio.to_thread(_part_md5s, path, layout[n::PART_THREADS]) for n in range(PART_THREADS))
    )
    shares, digest = await asyncio.gather(md5s, whole)
    parts = sorted((p for share in shares for p in share), key=lambda p: p.offset)
    return Digests(b"", digest, tuple(parts))


async def _nothing() -> bytes:
    return b""


def sha256_of(path: Path) -> bytes:
    return _whole(path, hashlib.sha256)


def _md5_of(path: Path) -> bytes:
    return _whole(path, hashlib.md5)


def _whole(path: Path, algorithm: Callable[[], hashlib._Hash]) -> bytes:
    digest = algorithm()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.digest()


def _part_md5s(path: Path, layout: list[tuple[int, int]]) -> list[Part]:
    """The MD5 of each (offset, length) region of ``path``."""
    parts = []
    with open(path, "rb") as file:
        fd = file.fileno()
        for offset, length in layout:
            digest, done = hashlib.md5(), 0
            while done < length:
                chunk = os.pread(fd, min(CHUNK, length - done), offset + done)
                if not chunk:
                    raise OSError(errno.EIO, f"{path} ended before its part at {offset} did")
                digest.update(chunk)
                done += len(chunk)
            parts.append(Part(length, digest.hexdigest(), offset))
    return parts
