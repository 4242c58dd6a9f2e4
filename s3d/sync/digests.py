"""The digests a sync folder's file enters the journal with, hashed on two threads at once.

What the journal needs depends on the file's size. At most ``journal.multipart_threshold``:
the MD5 of the whole (the ETag of its PutObject) and its SHA-256. Above it: the MD5 of each
``journal.part_size`` part (the layout it is uploaded in, whose MD5-of-MD5s is its ETag) and
the SHA-256 — not the MD5 of the whole, which nothing of a multipart upload uses (the remote
neither checks nor gives it), and which would cost a third MD5 pass over a large export.

Why two threads: hashing is what a sync folder adds to an upload (the file is linked, not
copied). MD5 runs at about a third of SHA-256's speed on CPUs with SHA extensions, and
``hashlib`` releases the GIL on large buffers, so SHA-256 on one thread beside the MD5s on
another costs the time of the MD5s alone when a second core is free. Each thread reads the
file itself: the second read comes from the page cache.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from s3d.journal.records import Part

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Digests:
    md5: bytes
    """Of the whole file; empty when it goes as parts."""
    sha256: bytes
    parts: tuple[Part, ...]
    """The MD5 of each part; empty when it goes as one PutObject."""


async def file_digests(path: Path, part_size: int | None) -> Digests:
    """The digests of ``path``: part MD5s of ``part_size`` parts, or (None) the whole MD5.
    Raises OSError. Cancelled, the threads read on to the end and their results are lost."""
    sha256, (md5, parts) = await asyncio.gather(
        asyncio.to_thread(sha256_of, path), asyncio.to_thread(_md5s, path, part_size)
    )
    return Digests(md5, sha256, parts)


def sha256_of(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.digest()


def _md5s(path: Path, part_size: int | None) -> tuple[bytes, tuple[Part, ...]]:
    """The whole file's MD5 (``part_size`` None), or the MD5 of each part."""
    if part_size is None:
        whole = hashlib.md5()
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                whole.update(chunk)
        return whole.digest(), ()
    parts = []
    with open(path, "rb") as file:
        offset = 0
        while True:
            digest, length = hashlib.md5(), 0
            while length < part_size and (chunk := file.read(min(CHUNK, part_size - length))):
                digest.update(chunk)
                length += len(chunk)
            if not length:
                break
            parts.append(Part(length, digest.hexdigest(), offset))
            offset += length
    return b"", tuple(parts)
