"""What the journal records, as typed values (pure).

A ``Change`` is one acknowledged change of a key, waiting to be applied to the remote: a
``Put`` (one body, possibly cut into parts for upload), a ``Multipart`` (a client's multipart
upload, its part boundaries kept), a ``Delete`` or a ``Tagging``. A ``LocalUpload`` is a
multipart upload being assembled here, part by part. These are the only shapes the journal's
code reads; the store alone turns them into rows and back (``s3d/journal/store.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from s3d.protocol.model import Headers

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Part:
    """One part of an upload: ``size`` bytes at ``offset`` of its file, and their MD5 (hex).
    A client's parts each have a file of their own (offset 0); a large put's parts are
    regions of its one file."""

    size: int
    md5: str
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Stored:
    """A new object state: the journal files holding its bytes, the request headers that
    describe it, what s3d computed (ETag, digests, checksums) and when it was acknowledged."""

    files: tuple[str, ...]
    headers: Headers
    etag: str
    acknowledged: datetime
    md5: str = ""
    sha256: str = ""
    checksums: tuple[tuple[str, str], ...] = ()
    parts: tuple[Part, ...] = ()
    """Empty: one PutObject. Otherwise the multipart layout the ETag was computed from."""


@dataclass(frozen=True, slots=True)
class Put(Stored):
    kind: ClassVar[str] = "put"


@dataclass(frozen=True, slots=True)
class Multipart(Stored):
    kind: ClassVar[str] = "multipart"


@dataclass(frozen=True, slots=True)
class Delete:
    kind: ClassVar[str] = "delete"


@dataclass(frozen=True, slots=True)
class Tagging:
    """The key's tags replaced (``tags``) or removed (None)."""

    tags: Tags | None
    kind: ClassVar[str] = "tagging"


Change = Put | Multipart | Delete | Tagging

REPLACING = frozenset({"put", "multipart", "delete"})
"""Kinds that set a key's whole state: they supersede whatever is queued before them."""


def segments_of(change: Stored, size: int) -> list[tuple[str, int, int]]:
    """(file name, offset, length) runs holding the object's bytes, in order."""
    if change.parts and len(change.parts) == len(change.files):
        return [(name, 0, p.size) for name, p in zip(change.files, change.parts, strict=True)]
    return [(change.files[0], 0, size)] if change.files else []


@dataclass(frozen=True, slots=True)
class LocalPart:
    file: str
    size: int
    md5: str
    uploaded: datetime
    checksums: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class LocalUpload:
    """A multipart upload assembled here; ``parts`` by number, a re-sent number replacing."""

    upload_id: str
    bucket: str
    key: str
    headers: Headers
    created: float
    parts: dict[int, LocalPart] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts.values())
