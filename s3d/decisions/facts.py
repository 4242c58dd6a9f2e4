"""What a read decision needs to know of an object it has not seen: its tags (one
GetObjectTagging), its headers (one HEAD), its bucket's tags (one GetBucketTagging).

Owns an in-memory memo per key and per bucket, each answer kept for ``ttl`` seconds (the
cache's freshness) and dropped at once when the key is written through s3d. Object tag sets
are also kept with the key's cache entry (``store``: they survive a restart, and go with the
entry); one looked up before its key had an entry is kept at the next decision that finds
one. Invariant: a
lookup that failed (remote unreachable, no such key) is never remembered; its facts are empty,
so that a read proceeds and answers what the remote answers.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Protocol

from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.errors import S3Error
from s3d.protocol.model import RawResponse
from s3d.protocol.xml_parse import parse_tagging
from s3d.rules.match import Facts, Need

log = logging.getLogger("s3d.rules")

MEMO_ENTRIES = 100_000
"""Keys whose looked-up facts are remembered (least recently used beyond it are forgotten)."""

Known = dict[str, str]


class TagStore(Protocol):
    async def get(self, bucket: str, key: str) -> tuple[float, dict[str, str]] | None:
        """(fetched at, wall clock; tags) of the key's entry, or None."""

    async def keep(self, bucket: str, key: str, tags: dict[str, str], when: float) -> bool:
        """False when the key has no entry to keep them with."""


class FactFinder:
    def __init__(self, remote: Remote, ttl: float) -> None:
        self._remote = remote
        self._ttl = ttl
        self._objects: OrderedDict[tuple[str, str, str], tuple[float, Known]] = OrderedDict()
        self._buckets: dict[str, tuple[float, Known]] = {}
        self.lookups = 0
        """Remote calls made for decisions (the status shows it)."""
        self.store: TagStore | None = None
        self._unkept: set[tuple[str, str]] = set()
        """Keys whose tag set, looked up before they had a cache entry, is not kept yet."""

    async def facts(self, bucket: str, key: str, needs: frozenset[Need]) -> Facts:
        """The facts ``needs`` asks for. Cancelled: nothing is remembered. Raises nothing:
        a failed lookup gives empty facts (logged)."""
        tags = await self._object(bucket, key, "tags") if "tags" in needs else {}
        headers = await self._object(bucket, key, "headers") if "headers" in needs else {}
        bucket_tags = await self._bucket(bucket) if "bucket_tags" in needs else {}
        return Facts(bucket, key, headers, tags, bucket_tags)

    def forget(self, bucket: str, key: str) -> None:
        """The key was written through s3d: its tags and headers may have changed."""
        for kind in ("tags", "headers"):
            self._objects.pop((bucket, key, kind), None)
        self._unkept.discard((bucket, key))  # the entry, and the tags kept with it, are dropped

    async def _object(self, bucket: str, key: str, kind: str) -> Mapping[str, str]:
        where = (bucket, key, kind)
        found = self._objects.get(where)
        if found is not None and time.monotonic() - found[0] <= self._ttl:
            self._objects.move_to_end(where)
            if (bucket, key) in self._unkept:
                await self._keep(bucket, key, found)
            return found[1]
        if kind == "tags" and self.store is not None:
            kept = await self.store.get(bucket, key)
            if kept is not None and time.time() - kept[0] <= self._ttl:
                self._remember(where, time.monotonic() - (time.time() - kept[0]), kept[1])
                return kept[1]
        try:
            self.lookups += 1
            if kind == "tags":
                answer = await self._remote.get_object_tagging(ops.GetObjectTagging(bucket, key))
                known = dict(answer.tags)
            else:
                head = await self._remote.get_object(ops.GetObject(bucket, key, head=True))
                known = {name.lower(): value for name, value in head.headers}
        except S3Error as exc:
            log.debug("no %s of %s/%s for a rule: %s", kind, bucket, key, exc.error_code)
            return {}
        self._remember(where, time.monotonic(), known)
        if kind == "tags" and self.store is not None:
            if len(self._unkept) >= MEMO_ENTRIES:
                self._unkept.clear()
            self._unkept.add((bucket, key))
            await self._keep(bucket, key, self._objects[where])
        return known

    def _remember(self, where: tuple[str, str, str], when: float, known: Known) -> None:
        self._objects[where] = (when, known)
        if len(self._objects) > MEMO_ENTRIES:
            self._objects.popitem(last=False)

    async def _keep(self, bucket: str, key: str, found: tuple[float, Known]) -> None:
        """Keep a looked-up tag set with the key's entry, once it has one."""
        assert self.store is not None
        fetched = time.time() - (time.monotonic() - found[0])
        try:
            if await self.store.keep(bucket, key, found[1], fetched):
                self._unkept.discard((bucket, key))
        except (sqlite3.Error, ValueError) as exc:  # a closed index at stop: kept in memory
            log.debug("tags of %s/%s not kept with the entry: %s", bucket, key, exc)

    async def _bucket(self, bucket: str) -> Mapping[str, str]:
        found = self._buckets.get(bucket)
        if found is not None and time.monotonic() - found[0] <= self._ttl:
            return found[1]
        try:
            self.lookups += 1
            known = dict(await self.bucket_tags(bucket))
        except S3Error as exc:
            log.debug("no tags of bucket %s for a rule: %s", bucket, exc.error_code)
            return {}
        self._buckets[bucket] = (time.monotonic(), known)
        return known

    async def bucket_tags(self, bucket: str) -> tuple[tuple[str, str], ...]:
        """The bucket's tags; none when it has no tag set. Raises S3Error."""
        op = ops.Forwarded("GetBucketTagging", "GET", bucket, None, (("tagging", ""),))
        try:
            answer: RawResponse = await self._remote.forward(op, None)
        except S3Error as exc:
            if exc.error_code == "NoSuchTagSet":  # S3's answer for a bucket without tags
                return ()
            raise
        body = b""
        if answer.body is not None:
            try:
                async for chunk in answer.body:
                    body += chunk
            finally:
                await answer.body.aclose()
        return parse_tagging(body)
