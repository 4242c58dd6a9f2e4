"""Listing pages as S3 cuts them: at most max-keys entries, keys and common prefixes counted
together in key order.

Some S3-compatible stores ignore max-keys when a delimiter is given (moto does). A V1 page
can be cut here without the remote's help, because its continuation marker is the last key or
prefix returned; V2 pages carry opaque tokens and are passed on as the remote made them.
"""

from __future__ import annotations

import dataclasses

from s3d.protocol.model import ListObjectsResult


def cap_page(result: ListObjectsResult) -> ListObjectsResult:
    """``result`` with at most ``max_keys`` entries (V1 only; V2 is returned unchanged).

    ``max-keys=0`` is an empty page that is not truncated, as S3 answers it."""
    limit = result.max_keys
    if result.version != 1:
        return result
    if limit <= 0:
        return dataclasses.replace(
            result, contents=(), common_prefixes=(), is_truncated=False, next_marker=None
        )
    if len(result.contents) + len(result.common_prefixes) <= limit:
        return result
    entries = sorted(
        [(entry.key, 0, i) for i, entry in enumerate(result.contents)]
        + [(prefix, 1, i) for i, prefix in enumerate(result.common_prefixes)]
    )[:limit]
    keys = {i for _, kind, i in entries if kind == 0}
    prefixes = {i for _, kind, i in entries if kind == 1}
    return dataclasses.replace(
        result,
        contents=tuple(e for i, e in enumerate(result.contents) if i in keys),
        common_prefixes=tuple(p for i, p in enumerate(result.common_prefixes) if i in prefixes),
        is_truncated=True,
        next_marker=entries[-1][0] if result.delimiter else None,
    )
