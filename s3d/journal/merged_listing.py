"""ListObjects and ListObjectsV2 in write-back mode: the remote's listing with the pending
changes of the journal laid over it (contract 2, read your writes).

A thin async driver around ``PageMerge`` (``overlay.py``), which decides everything: this
module only carries out what it asks for. The remote is always asked by StartAfter, never by
its own continuation tokens, so every page s3d answers is defined by a position in key order
and s3d's own tokens (``encode_token``) stay valid whatever the remote does between pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from s3d.journal.overlay import (
    CheckPrefix,
    Fetch,
    Overlay,
    Page,
    PageMerge,
    decode_token,
    encode_token,
)
from s3d.protocol.model import ListObjectsResult, ObjectEntry, Owner
from s3d.protocol.operations import ListObjects


@dataclass(frozen=True, slots=True)
class RemotePage:
    """One remote listing page for the operation's prefix and delimiter: keys and common
    prefixes each in key order, and whether the remote has more after them."""

    keys: tuple[ObjectEntry, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool


FetchPage = Callable[[str | None, int], Awaitable[RemotePage]]
"""``(start_after, max_keys)`` -> the remote's page of entries after ``start_after``."""

HasLiveKey = Callable[[str], Awaitable[bool]]
"""``prefix`` -> whether the remote holds a key under ``prefix`` that is not pending-deleted."""


async def list_merged(
    op: ListObjects, overlay: Overlay, fetch: FetchPage, has_live_key: HasLiveKey
) -> ListObjectsResult:
    """The page ``op`` asks for, over the remote's keys plus pending puts minus pending deletes.

    ``has_live_key`` is only asked about remote common prefixes that have pending deletes
    under them and no pending put. Raises ``InvalidArgument`` for a continuation token s3d did
    not make, ``InternalError`` when a truncated remote page gives nothing to continue from,
    and whatever ``fetch`` and ``has_live_key`` raise. Cancellation stops it between remote
    calls; it holds nothing to release."""
    position, after_prefix = _position(op)
    merge = PageMerge(
        overlay,
        op.prefix,
        op.delimiter or None,
        position,
        after_prefix=after_prefix,
        max_keys=op.max_keys,
    )
    while True:
        action = merge.next_action()
        if isinstance(action, Fetch):
            page = await fetch(action.start_after, action.max_keys)
            merge.receive_page(page.keys, page.common_prefixes, page.is_truncated)
        elif isinstance(action, CheckPrefix):
            merge.receive_verdict(action.prefix, await has_live_key(action.prefix))
        else:
            return _result(op, overlay, action, merge.owner)


def _position(op: ListObjects) -> tuple[str | None, bool]:
    """Where the page starts (strictly after), and whether that is a common prefix to skip."""
    if op.version == 2:
        if op.continuation_token is not None:
            return decode_token(op.continuation_token)  # the token wins over start-after
        return op.start_after or None, False
    return op.marker or None, False


def _result(
    op: ListObjects, overlay: Overlay, page: Page, owner: Owner | None
) -> ListObjectsResult:
    show_owner = op.version == 1 or op.fetch_owner
    contents = tuple(
        _shown(e.entry, overlay, owner, show_owner) for e in page.entries if e.entry is not None
    )
    prefixes = tuple(e.name for e in page.entries if e.entry is None)
    last = page.entries[-1] if page.is_truncated else None
    v1 = op.version == 1
    return ListObjectsResult(
        version=op.version,
        bucket=op.bucket,
        prefix=op.prefix,
        delimiter=op.delimiter,
        max_keys=op.max_keys,
        encoding_type=op.encoding_type,
        is_truncated=page.is_truncated,
        contents=contents,
        common_prefixes=prefixes,
        marker=op.marker if v1 else None,
        # NextMarker only on a truncated page of a delimited listing, as S3 sends it.
        next_marker=last.name if v1 and last is not None and op.delimiter else None,
        continuation_token=None if v1 else op.continuation_token,
        next_continuation_token=(
            encode_token(last.name, prefix=last.entry is None)
            if not v1 and last is not None
            else None
        ),
        start_after=None if v1 else op.start_after,
    )


def _shown(entry: ObjectEntry, overlay: Overlay, owner: Owner | None, show: bool) -> ObjectEntry:
    """``entry`` with the owner the client asked for (V1 always, V2 with fetch-owner)."""
    if not show:
        return entry if entry.owner is None else replace(entry, owner=None)
    if entry.owner is None and entry.key in overlay.puts:
        # A pending put has no owner from the remote yet: the bucket's is the best guess.
        return replace(entry, owner=owner)
    return entry
