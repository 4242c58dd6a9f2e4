"""ListObjects, ListObjectsV2 and ListMultipartUploads in write-back mode: the remote's
listing with the pending changes of the journal laid over it (contract 2, read your writes).
When the remote cannot be reached, a listing is made of what this node knows: its pending
changes and the keys its read cache holds.

A thin async driver around ``PageMerge`` (``overlay.py``), which decides everything: this
module only carries out what it asks for. The remote is always asked by StartAfter, never by
its own continuation tokens, so every page s3d answers is defined by a position in key order
and s3d's own tokens (``encode_token``) stay valid whatever the remote does between pages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from s3d.journal.overlay import (
    CheckPrefix,
    Fetch,
    Overlay,
    Page,
    PageMerge,
    decode_token,
    encode_token,
)
from s3d.journal.reads import Reads
from s3d.journal.uploads import LocalMultipart
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.errors import ServiceUnavailable
from s3d.protocol.model import (
    ListMultipartUploadsResult,
    ListObjectsResult,
    ObjectEntry,
    Owner,
    UploadEntry,
)
from s3d.protocol.operations import ListObjects

log = logging.getLogger("s3d.journal")

KnownKeys = Callable[[str, str, str | None, int], Awaitable[list[ObjectEntry]]]
"""(bucket, prefix, start_after, limit) -> keys this node knows of (the read cache's)."""


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


class PendingListings:
    """Listings with the journal's pending state laid over the remote's."""

    def __init__(
        self, reads: Reads, multipart: LocalMultipart, remote: Remote, known: KnownKeys | None
    ) -> None:
        self._reads = reads
        self._multipart = multipart
        self._remote = remote
        self._known = known

    async def list_objects(self, op: ops.ListObjects) -> ListObjectsResult:
        overlay = self._reads.overlay(op.bucket)

        async def fetch(start_after: str | None, max_keys: int) -> RemotePage:
            page = await self._remote.list_objects(
                ops.ListObjects(
                    op.bucket,
                    version=2,
                    prefix=op.prefix,
                    delimiter=op.delimiter,
                    max_keys=max_keys,
                    start_after=start_after,
                    fetch_owner=op.fetch_owner or op.version == 1,
                )
            )
            return RemotePage(page.contents, page.common_prefixes, page.is_truncated)

        async def has_live_key(prefix: str) -> bool:
            start: str | None = None
            while True:
                page = await self._remote.list_objects(
                    ops.ListObjects(op.bucket, version=2, prefix=prefix, start_after=start)
                )
                if any(e.key not in overlay.deletes for e in page.contents):
                    return True
                if not page.is_truncated or not page.contents:
                    return False
                start = page.contents[-1].key

        try:
            return await list_merged(op, overlay, fetch, has_live_key)
        except ServiceUnavailable:
            if self._known is None:
                raise
        # The remote cannot be reached: list what this node knows — its pending changes and
        # the objects its cache holds — rather than nothing.
        known = self._known
        log.warning("listing %s from local knowledge: the remote cannot be reached", op.bucket)

        async def local(start_after: str | None, max_keys: int) -> RemotePage:
            entries = await known(op.bucket, op.prefix, start_after, max_keys + _ROLL_UP_SLACK)
            return rolled_up(entries, op.prefix, op.delimiter, max_keys, len(entries) > max_keys)

        async def none_live(prefix: str) -> bool:
            return False

        return await list_merged(op, overlay, local, none_live)

    async def list_uploads(self, op: ops.ListMultipartUploads) -> ListMultipartUploadsResult:
        """The remote's uploads and those assembled here, in key then id order."""
        remote = await self._remote.list_multipart_uploads(op)
        local = [
            UploadEntry(u.key, upload_id, datetime.fromtimestamp(u.created, UTC))
            for upload_id, u in self._multipart.uploads.items()
            if u.bucket == op.bucket
            and u.key.startswith(op.prefix)
            and (op.key_marker is None or u.key > op.key_marker)
        ]
        merged = sorted([*remote.uploads, *local], key=lambda u: (u.key, u.upload_id))
        shown = merged[: op.max_uploads]
        truncated = remote.is_truncated or len(merged) > len(shown)
        last = shown[-1] if shown and truncated else None
        return ListMultipartUploadsResult(
            bucket=remote.bucket,
            prefix=remote.prefix,
            delimiter=remote.delimiter,
            key_marker=remote.key_marker,
            upload_id_marker=remote.upload_id_marker,
            next_key_marker=last.key if last else None,
            next_upload_id_marker=last.upload_id if last else None,
            max_uploads=remote.max_uploads,
            encoding_type=remote.encoding_type,
            is_truncated=truncated,
            uploads=tuple(shown),
            common_prefixes=remote.common_prefixes,
        )


_ROLL_UP_SLACK = 1000


def rolled_up(
    entries: list[ObjectEntry], prefix: str, delimiter: str | None, max_keys: int, more: bool
) -> RemotePage:
    """A page as S3 would cut it from sorted keys: keys past the delimiter rolled up into
    common prefixes, keys and prefixes counted together up to ``max_keys``."""
    keys: list[ObjectEntry] = []
    prefixes: list[str] = []
    for entry in entries:
        rest = entry.key[len(prefix) :]
        if delimiter and delimiter in rest:
            common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
            if prefixes and prefixes[-1] == common:
                continue
            prefixes.append(common)
        else:
            keys.append(entry)
        if len(keys) + len(prefixes) >= max_keys:
            return RemotePage(tuple(keys), tuple(prefixes), True)
    return RemotePage(tuple(keys), tuple(prefixes), more)
