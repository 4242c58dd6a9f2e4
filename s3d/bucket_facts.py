"""Per-bucket facts the write-back decision needs, learned from the remote and kept briefly.

Owns, per bucket, the facts last learned (``BucketFacts``, see ``s3d/protocol/bucket_facts.py``)
and when; at most one learning runs per bucket at a time. Facts are asked for again once
``fresh_for`` seconds old, and forgotten at once when a configuration change of the bucket
passes through s3d (PutBucketVersioning, PutBucketEncryption, a policy, CreateBucket…), so
this node's own changes are seen by its next write. Another node's change is seen within
``fresh_for``. A remote that cannot be asked gives ``UNKNOWN`` (writes are journaled as before
the facts existed, so an outage still accepts writes), not remembered.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from s3d.ports import Remote
from s3d.protocol import bucket_facts as facts_of
from s3d.protocol import operations as ops
from s3d.protocol.bucket_facts import UNKNOWN, BucketFacts
from s3d.protocol.errors import S3Error, ServiceUnavailable

LEARN_WAIT = 2.0
"""Seconds a write waits for the remote to describe a bucket before assuming ``UNKNOWN``."""
RETRY_LEARNING = 5.0
"""Seconds before a bucket the remote could not describe is asked about again."""
_CONFIG_QUERIES = frozenset({"versioning", "encryption", "policy", "object-lock"})


class BucketFactsService:
    def __init__(self, remote: Remote, fresh_for: float) -> None:
        self._remote = remote
        self._fresh_for = fresh_for
        self._known: dict[str, tuple[float, BucketFacts]] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        """One learning per bucket at a time; the writes behind it take what it learned."""

    async def of(self, bucket: str) -> BucketFacts:
        """The bucket's facts, fresh within ``fresh_for``. Never raises for the remote's
        failures (the facts known before, else UNKNOWN); cancelled, nothing is remembered."""
        known = self._fresh(bucket)
        if known is not None:
            return known
        async with self._locks[bucket]:
            known = self._fresh(bucket)
            if known is not None:
                return known
            try:
                async with asyncio.timeout(LEARN_WAIT):
                    return await self._learn(bucket)
            except (TimeoutError, ServiceUnavailable):
                stale = self._known.get(bucket)
                facts = stale[1] if stale is not None else UNKNOWN
                # Asked again after RETRY_LEARNING, not at every write of an outage.
                since = time.monotonic() - self._fresh_for + RETRY_LEARNING
                self._known[bucket] = (since, facts)
                return facts

    def _fresh(self, bucket: str) -> BucketFacts | None:
        known = self._known.get(bucket)
        if known is not None and time.monotonic() - known[0] < self._fresh_for:
            return known[1]
        return None

    def forget(self, bucket: str) -> None:
        """Drop what is known of ``bucket`` (its configuration changed through s3d)."""
        self._known.pop(bucket, None)

    def observe(self, op: ops.Operation) -> None:
        """Forget a bucket whose configuration ``op`` may change."""
        if isinstance(op, ops.CreateBucket | ops.DeleteBucket):
            self.forget(op.bucket)
        elif isinstance(op, ops.Forwarded) and _changes_configuration(op):
            assert op.bucket is not None
            self.forget(op.bucket)

    async def _learn(self, bucket: str) -> BucketFacts:
        """Raises ServiceUnavailable."""
        started = time.monotonic()
        versioning = facts_of.parse_versioning(await self._ask(bucket, "versioning"))
        lock = facts_of.parse_object_lock(await self._ask(bucket, "object-lock"))
        encryption = facts_of.parse_encryption(await self._ask(bucket, "encryption"))
        policy = bool((await self._ask(bucket, "policy")).strip())
        facts = BucketFacts(versioning, lock, policy, encryption)
        self._known[bucket] = (started, facts)
        return facts

    async def _ask(self, bucket: str, query: str) -> bytes:
        """The bucket's configuration document ``query``; b"" when it has none (or the
        remote does not implement it). Raises ServiceUnavailable."""
        op = ops.Forwarded(f"GetBucket:{query}", "GET", bucket, None, ((query, ""),))
        try:
            answer = await self._remote.forward(op, None)
        except ServiceUnavailable:
            raise
        except S3Error:
            return b""  # NoSuchBucketPolicy, ServerSideEncryptionConfigurationNotFoundError…
        document = b""
        if answer.body is not None:
            try:
                async for chunk in answer.body:
                    document += chunk
            finally:
                await answer.body.aclose()
        return document if answer.status == 200 else b""


def _changes_configuration(op: ops.Forwarded) -> bool:
    return (
        op.bucket is not None
        and op.key is None
        and op.method in ("PUT", "DELETE", "POST")
        and any(name in _CONFIG_QUERIES for name, _ in op.query)
    )
