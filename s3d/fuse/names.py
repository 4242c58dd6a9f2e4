"""Keys and file names: which keys a mount shows, under which names (pure, no I/O).

A mount shows the keys under ``prefix`` (empty, or ending in ``/``). A directory is a key
prefix ending in ``/``; ``/`` is the only separator. A key segment is shown as a file name only
when POSIX can hold it: not empty, not ``.`` or ``..``, no NUL byte, at most NAME_MAX bytes
once UTF-8 encoded. Other keys stay in the bucket, hidden from the mount and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

NAME_MAX = 255


@dataclass(frozen=True, slots=True)
class Source:
    """What a mount shows: a bucket and a key prefix (empty, or ending in ``/``)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, text: str) -> Source:
        """``BUCKET`` or ``BUCKET/PREFIX``; ValueError when the bucket is missing."""
        bucket, _, prefix = text.strip().strip("/").partition("/")
        if not bucket:
            raise ValueError(f"expected BUCKET or BUCKET/PREFIX, got {text!r}")
        return cls(bucket, prefix.strip("/") + "/" if prefix.strip("/") else "")


def representable(name: str) -> bool:
    """Whether a key segment can be a file name."""
    if name in ("", ".", ".."):
        return False
    if "\0" in name or "/" in name:
        return False
    return len(name.encode("utf-8", "surrogateescape")) <= NAME_MAX


def child_name(parent: str, key: str) -> str | None:
    """The entry ``key`` (a content key or a common prefix from a listing of ``parent`` with
    delimiter ``/``) makes in that directory; None for the directory's own marker object."""
    rest = key[len(parent) :]
    if rest == "":
        return None  # "dir/" itself: the directory, not an entry in it
    return rest[:-1] if rest.endswith("/") else rest


def encode(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def decode(name: bytes) -> str:
    """A file name from the kernel as key text; ValueError when it is not UTF-8 (S3 keys are)."""
    return name.decode("utf-8")
