"""Unsigned requests forwarded unsigned (``server.anonymous = "remote"``).

The remote's ACLs and bucket policies decide what an anonymous caller may do, so such a
request must reach the remote as it came: without s3d's credentials, and never answered from
what s3d read or wrote with them. How that meets the cache and the journal:

- never the read cache: its entries were filled with s3d's credentials, and serving one would
  give an anonymous caller what only s3d may read. Anonymous answers are not cached either;
- the journal first: the key's pending changes (a bucket-level request: the bucket's) are
  uploaded before the request is forwarded, so the remote answers as it will once they are
  there, and an anonymous write lands after them (per-key order). If they cannot be uploaded
  within a minute, the answer is ``503 SlowDown``; a dead letter holds anonymous writes of
  its key (or bucket) back the same way, while reads are answered from what the remote holds;
- after an anonymous write (refused or not: the outcome may be unknown) the keys it names are
  dropped from the read cache and the bucket's facts forgotten, as for a signed write.

Holds no state of its own.
"""

from __future__ import annotations

from typing import Protocol

from s3d.bucket_facts import BucketFactsService
from s3d.cache.service import ReadCache
from s3d.gateway import RETRY_AFTER, written_keys
from s3d.journal.jobs import Job
from s3d.journal.service import Journal
from s3d.protocol import operations as ops
from s3d.protocol.errors import SlowDown
from s3d.protocol.model import RawResponse
from s3d.staging import StagedBody

WAIT_FOR_PENDING = 60.0
"""Seconds an anonymous request waits for the pending changes it must come after."""
_WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})


class UnsignedRemote(Protocol):
    async def forward(
        self, op: ops.Forwarded, body: StagedBody | None, *, signed: bool = True
    ) -> RawResponse: ...


class UnsignedAccess:
    """Carries out unsigned requests at the remote, in order with the journal."""

    def __init__(
        self,
        remote: UnsignedRemote,
        journal: Journal | None,
        cache: ReadCache | None,
        facts: BucketFactsService | None,
    ) -> None:
        self._remote = remote
        self._journal = journal
        self._cache = cache
        self._facts = facts

    async def execute(
        self, op: ops.Operation, request: ops.Forwarded, body: StagedBody | None
    ) -> RawResponse:
        """Forward ``request`` (the client's request as it came; ``op`` is its typed form)
        unsigned, once the changes it must follow reached the remote. Raises SlowDown when
        they do not within ``WAIT_FOR_PENDING``, and the remote's error (AccessDenied…) as
        S3Error; cancelled while waiting, nothing was sent."""
        writes = request.method in _WRITE_METHODS
        await self._after_pending(request, writes)
        try:
            return await self._remote.forward(request, body, signed=False)
        finally:
            if writes:
                await self._forget(op)

    async def _after_pending(self, request: ops.Forwarded, writes: bool) -> None:
        journal, bucket, key = self._journal, request.bucket, request.key
        if journal is None or bucket is None:
            return
        if key is None:
            left = await journal.bucket_uploaded(bucket, WAIT_FOR_PENDING)
        else:
            await journal.uploaded(bucket, key, WAIT_FOR_PENDING)
            left = list(journal.core.queue.of(bucket, key))
        held = _holding(left, writes)
        if held:
            raise SlowDown(
                f"s3d holds {len(held)} change(s) here that have not reached the remote"
                + (" (dead letters: see `s3d journal`)" if any(j.dead for j in held) else "")
                + "; retry once they have.",
                headers={"Retry-After": str(RETRY_AFTER)},
            )

    async def _forget(self, op: ops.Operation) -> None:
        if self._facts is not None:
            self._facts.observe(op)
        if self._cache is not None:
            for bucket, key in written_keys(op):
                await self._cache.invalidate(bucket, key)


def _holding(left: list[Job], writes: bool) -> list[Job]:
    """The pending changes a request may not pass: any for a write (it must come after
    them), those still on their way for a read (a dead letter may never get there)."""
    return [job for job in left if writes or not job.dead]
