"""Which local multipart uploads to give up (pure: no I/O, the clock passed in).

An upload's activity is its creation and each part it received; it is *idle* since the newest
of them (a part's time is kept to the second, so it counts as the end of that second: idle
time is never overstated). As with an S3 lifecycle rule's AbortIncompleteMultipartUpload, an
upload idle for ``upload_expiry`` seconds is given up (``expired``). Under space pressure,
uploads idle for at least ``upload_reclaim_idle`` seconds are given up oldest first, and only
when that makes the write fit (``reclaimable``): throwing away a client's parts for a write
that is refused anyway helps nobody.
"""

from __future__ import annotations

from collections.abc import Iterable

from s3d.journal.records import LocalUpload


def last_activity(upload: LocalUpload) -> float:
    """When the upload was created or last received a part (epoch seconds)."""
    parts = (part.uploaded.timestamp() + 1.0 for part in upload.parts.values())
    return max([upload.created, *parts])


def idle(upload: LocalUpload, now: float) -> float:
    return max(0.0, now - last_activity(upload))


def by_age(uploads: Iterable[LocalUpload]) -> list[LocalUpload]:
    """Longest idle first; within a second (parts' times are kept to the second) the one
    created first, then by id (a stable order)."""
    return sorted(uploads, key=lambda u: (last_activity(u), u.created, u.upload_id))


def expired(uploads: Iterable[LocalUpload], now: float, expiry: float) -> list[str]:
    """The ids of the uploads idle for ``expiry`` seconds or more (none when ``expiry`` is 0)."""
    if expiry <= 0:
        return []
    return [u.upload_id for u in by_age(uploads) if idle(u, now) >= expiry]


def reclaimable(
    uploads: Iterable[LocalUpload], now: float, min_idle: float, bytes_needed: int
) -> list[str]:
    """The ids of the uploads idle for ``min_idle`` seconds or more to give up, oldest first,
    until they hold ``bytes_needed``; none when those idle long enough do not hold as much."""
    if bytes_needed <= 0:
        return []
    chosen: list[str] = []
    freed = 0
    for upload in by_age(uploads):
        if idle(upload, now) < min_idle:
            break  # sorted by activity: every later one is younger still
        if upload.size:
            chosen.append(upload.upload_id)
            freed += upload.size
            if freed >= bytes_needed:
                return chosen
    return []


def next_sweep(
    uploads: Iterable[LocalUpload],
    now: float,
    expiry: float,
    longest: float = 60.0,
    shortest: float = 0.1,
) -> float:
    """Seconds to wait before looking for expired uploads again: until the first one expires,
    but at most ``longest`` (nor ``expiry``: an upload created meanwhile expires no sooner)
    and at least ``shortest`` (an expired upload busy with a part waits for a later sweep)."""
    wait = min(longest, expiry)
    for upload in uploads:
        wait = min(wait, last_activity(upload) + expiry - now)
    return max(wait, shortest)
