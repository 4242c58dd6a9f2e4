"""A cached object version and the arithmetic of its blocks (pure).

An entry is one version of one key: its ETag, size, Last-Modified and the response headers the
remote gave. Its bytes live in one data file, laid out in blocks of ``block_size`` bytes (the
last one shorter). An object no larger than the whole-object threshold is a single block, so it
is always fetched and cached whole; a larger one is fetched block by block as readers need it.
A block is served only once it is complete, fsynced and recorded with its CRC32C.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from s3d.protocol.answer_headers import answer_headers
from s3d.protocol.model import CacheState, Headers, Provenance

# Headers that describe one response rather than the object: rebuilt for every answer.
_PER_RESPONSE = frozenset({"content-length", "content-range", "accept-ranges", "x-s3d-cache"})


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    bucket: str
    key: str
    etag: str
    size: int
    last_modified: datetime
    headers: Headers
    block_size: int
    validated_at: float
    """Wall-clock time the remote last confirmed this version (fetch or revalidation)."""
    mtime_ns: int = 0
    """The data file's mtime when s3d last wrote or checked it: another value means someone
    else touched the file, and its blocks are checked before they are served."""

    @property
    def blocks(self) -> int:
        """Number of blocks; 0 for an empty object."""
        return -(-self.size // self.block_size) if self.size else 0

    def span(self, index: int) -> tuple[int, int]:
        """Byte offsets [start, end) of block ``index``."""
        start = index * self.block_size
        return start, min(start + self.block_size, self.size)

    def blocks_for(self, first: int, last: int) -> range:
        """The blocks holding bytes ``first`` to ``last`` inclusive."""
        if self.size == 0:
            return range(0)
        return range(first // self.block_size, last // self.block_size + 1)

    @property
    def whole(self) -> bool:
        return self.blocks <= 1


def layout(size: int, block_size: int, whole_object_max: int) -> int:
    """The block size for an object of ``size`` bytes: the whole object in one block up to
    ``whole_object_max``, fixed blocks beyond."""
    if size <= whole_object_max:
        return max(size, 1)
    return block_size


HANDED_OVER = ("x-s3d-state", "uploaded")
"""Kept among an entry's stored headers (the index's format) when the journal handed the entry
over after uploading it; never answered as a header of the object."""


def stored_headers(headers: Headers) -> Headers:
    """The headers worth keeping for an entry: everything but what each answer rebuilds."""
    return tuple((name, value) for name, value in headers if name not in _PER_RESPONSE)


def encode_headers(headers: Headers) -> str:
    return json.dumps([list(pair) for pair in headers])


def decode_headers(text: str) -> Headers:
    return tuple((str(name), str(value)) for name, value in json.loads(text))


def response_headers(
    entry: Entry,
    span: tuple[int, int] | None,
    *,
    checksums: bool,
    overrides: tuple[tuple[str, str], ...] = (),
) -> Headers:
    """The headers of an answer from ``entry``: the whole object (``span`` None) or the
    inclusive byte range ``span``; object checksums only for a whole read asked for with
    ``checksums``; ``response-*`` overrides replace their header."""
    stored = entry.headers
    if HANDED_OVER in stored:
        stored = tuple(pair for pair in stored if pair != HANDED_OVER)
    return answer_headers(stored, entry.size, span, checksums=checksums, overrides=overrides)


def provenance(entry: Entry, state: CacheState) -> Provenance:
    """How an answer from ``entry`` came about: ``state``, and whether the journal handed
    the entry over after uploading it."""
    return _PROVENANCES[state, HANDED_OVER in entry.headers]


_PROVENANCES: dict[tuple[CacheState, bool], Provenance] = {
    (state, handed): Provenance(cache=state, state="uploaded" if handed else None)
    for state in get_args(CacheState)
    for handed in (False, True)
}
"""Every provenance an answer from the cache can have, made once (the hit path's allocations
are counted)."""
