"""The gateway: carries out one S3 operation across s3d's services.

Every operation the server parsed comes here, and only here, so that nothing that changes an
object's bytes can reach the remote around it. Reads go through the read cache when there is
one; every write of a key through s3d drops that key from the cache at once (also when the
remote refused it: an ambiguous failure must not leave a stale entry behind). The write-back
journal attaches here too, which is why the server never calls the remote itself.

``Remote`` (``s3d/ports.py``) is the contract the remote adapter fulfils.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from s3d.bucket_facts import BucketFactsService
from s3d.cache.service import ReadCache
from s3d.catalogue.feed import CatalogueFeed
from s3d.catalogue.service import Catalogue
from s3d.decisions.service import Steering
from s3d.journal.jobs import Job
from s3d.journal.merged_listing import PendingListings
from s3d.journal.service import Journal
from s3d.journal.uploads import is_local
from s3d.ports import Remote
from s3d.protocol import operations as ops
from s3d.protocol.conditions import parse_http_date
from s3d.protocol.customer_keys import OWN_PREFIX, SOURCE_PREFIX, source_key_for_read
from s3d.protocol.errors import BucketNotEmpty, InternalError, SlowDown
from s3d.protocol.listing import cap_page
from s3d.protocol.model import Headers, ObjectResponse, Result, TaggingResult, header
from s3d.staging import StagedBody, StagingArea
from s3d.telemetry import Attributes, deferred, object_attributes, tracing
from s3d.write_decision import WriteDecider, with_headers


class Gateway:
    """Dispatches operations. Owns no state of its own; the services it composes do.
    ``journal`` is there in write-back mode (with ``listings`` over it), None in
    write-through."""

    def __init__(
        self,
        remote: Remote,
        staging: StagingArea,
        cache: ReadCache | None = None,
        journal: Journal | None = None,
        volume: int | None = None,
        catalogue: Catalogue | None = None,
        steering: Steering | None = None,
    ) -> None:
        self._remote = remote
        self._steering = steering
        self.staging = staging
        self.cache = cache
        self.journal = journal
        known = cache.known_keys if cache is not None and cache.settings.enabled else None
        self._listings = (
            PendingListings(journal.reads, journal.multipart, remote, known)
            if journal is not None
            else None
        )
        self._volume = volume
        self.facts = (
            BucketFactsService(remote, journal.settings.bucket_facts_for)
            if journal is not None
            else None
        )
        self._decider = (
            WriteDecider(journal, self.facts, journal.settings.guarded_buckets == "write-back")
            if journal is not None and self.facts is not None
            else None
        )
        self.feed = CatalogueFeed(catalogue, self.read) if catalogue is not None else None
        self.watchers: list[Callable[[str, str], Awaitable[None]]] = []
        """Told of each key a write through s3d changed, once it did (FUSE mounts drop what
        the kernel keeps of it); they must not raise."""

    async def admit(self, size: int) -> None:
        """Refuse a write of ``size`` bytes with 503 SlowDown while pending changes fill the
        volume: they cannot be evicted, only uploaded — unless giving up local multipart
        uploads idle long enough makes room (``journal.upload_reclaim_idle``). Otherwise clean
        cache entries start making way for it while its body is received. Cancelled, an
        upload being given up still goes."""
        journal = self.journal
        if journal is None or self._volume is None:
            return
        if not await journal.abandoned.room_for(size, lambda: journal.pending_bytes, self._volume):
            raise SlowDown(
                "Pending writes fill the local volume; retry once they are uploaded.",
                headers={"Retry-After": str(RETRY_AFTER)},
            )
        if self.cache is not None:
            self.cache.make_room_soon(size)

    async def execute(self, op: ops.Operation, body: StagedBody | None = None) -> Result:
        """Carry out ``op``. ``body`` is the staged request body of PutObject, UploadPart and
        forwarded operations that have one; the gateway owns it from here on (today it is
        deleted once the remote has it). Raises ``S3Error``."""
        if not tracing():
            return await self._execute(op, body)
        with deferred(f"gateway {op.name}", _span_attributes(op)) as span:
            result = await self._execute(op, body)
            if isinstance(result, ObjectResponse) and result.provenance.cache is not None:
                span.set_attribute("s3d.cache.result", result.provenance.cache)
            return result

    async def _execute(self, op: ops.Operation, body: StagedBody | None) -> Result:
        # In write-back a write grows the pending bytes, which share the cache's volume: clean
        # entries make way before it joins the journal and again before it is acknowledged
        # (copies and completions grow them with no body).
        grows = self.journal is not None and (body is not None or bool(written_keys(op)))
        if grows and self.cache is not None:
            await self.cache.make_room(body.size if body is not None else 0)
        try:
            result = await self._dispatch(op, body)
        finally:
            if self.facts is not None:
                self.facts.observe(op)
            if body is not None:
                await self.staging.discard(body)
            if self.cache is not None:
                for bucket, key in written_keys(op):
                    await self.cache.invalidate(bucket, key)
                if grows:
                    await self.cache.make_room()
            for bucket, key in written_keys(op) if self.watchers else ():
                for watcher in self.watchers:
                    await watcher(bucket, key)
        if self.feed is not None:
            # After the cache forgot the old state: the feed may read the key back.
            self.feed.observe(op, result, body)
            if isinstance(op, ops.GetObject) and isinstance(result, ObjectResponse):
                result = self.feed.wrap_read(op, result)
        return result

    async def read(self, op: ops.GetObject) -> Result:
        """GET or HEAD ``op`` as a client would, without the catalogue taking note: how the
        catalogue reads back objects it hashes in the background."""
        return await self._dispatch(op, None)

    async def newest(self, op: ops.GetObject) -> ObjectResponse:
        """The key's newest state as ``op`` (a GET or HEAD) answers it: a change pending in
        the journal, else the remote's object — never the cache's, since another node may
        have written the key a moment ago. Raises NoSuchKey and what the remote raises."""
        if self.journal is not None:
            return await self.journal.newest(op)
        return await self._remote.get_object(op)

    async def _dispatch(self, op: ops.Operation, body: StagedBody | None) -> Result:
        journal = self.journal
        if type(op) is ops.GetObject:
            # A read: no write rule, no journal decision applies (the hit path's shortcut).
            return await self._get(op, journal)
        if self._steering is not None and await self._steering.write_through(op, body, journal):
            journal = None  # a filter rule sends it to the remote now (a refusal raised)
        if journal is None or not await self._journaled(op, journal):
            # The operation goes to the remote, in order with pending changes.
            return await self._answer(op, body, None)
        assert self._decider is not None
        decided = await self._decider.decide(op)
        if decided is None:
            return await self._answer(op, body, None)
        result = await self._answer(decided.op, body, journal)
        return with_headers(result, decided.answer) if decided.answer else result

    async def _answer(
        self, op: ops.Operation, body: StagedBody | None, journal: Journal | None
    ) -> Result:
        if body is not None and not (isinstance(op, ops.PutObject) and journal is not None):
            body = await self.staging.on_disk(body)  # only the journal's put takes it in memory
        match op:
            case ops.GetObject():
                return await self._get(op, journal)
            case ops.PutObject() if journal is not None:
                return await journal.put(op, _required(body))
            case ops.DeleteObject() if journal is not None and op.version_id is None:
                return await journal.delete(op)
            case ops.DeleteObjects() if journal is not None and _unversioned(op):
                return await journal.delete_many(op)
            case ops.CopyObject() if journal is not None:
                return await journal.copy(op)
            case ops.PutObjectTagging() | ops.DeleteObjectTagging() if (
                journal is not None and op.version_id is None
            ):
                return await journal.tagging(op)
            case ops.GetObjectTagging() if journal is not None and op.version_id is None:
                tags = journal.pending_tags(op.bucket, op.key)
                if tags is not None:
                    return TaggingResult(tags)
            case ops.ListObjects() if self._listings is not None:
                return await self._listings.list_objects(op)
            case ops.ListMultipartUploads() if self._listings is not None:
                return await self._listings.list_uploads(op)
            case ops.CreateMultipartUpload() if journal is not None:
                return await journal.create_upload(op)
            case ops.UploadPart() if journal is not None and is_local(op.upload_id):
                return await journal.upload_part(op, _required(body))
            case ops.UploadPartCopy() if journal is not None and is_local(op.upload_id):
                return await journal.upload_part_copy(op)
            case ops.CompleteMultipartUpload() if journal is not None and is_local(op.upload_id):
                return await journal.complete(op)
            case ops.AbortMultipartUpload() if journal is not None and is_local(op.upload_id):
                return await journal.abort(op)
            case ops.ListParts() if journal is not None and is_local(op.upload_id):
                return journal.list_parts(op)
            case ops.DeleteBucket() if journal is not None:
                await _bucket_settled(op.bucket, journal)
        return await self._remotely(op, body)

    async def _journaled(self, op: ops.Operation, journal: Journal) -> bool:
        """Whether the journal may answer ``op``. An SSE-C key is never written to disk: such
        a write goes to the remote now, after the key's pending changes (kept in order).
        Forwarded writes (ACLs, retention, legal holds…) act on the remote object: it gets
        there first."""
        if isinstance(op, ops.UploadPartCopy) and is_local(op.upload_id):
            # A local upload holds no SSE-C key of its own: a source's key only serves to read
            # the source, which the journal does with it.
            return True
        if customer_keyed(op):
            await journal.settle(*_where(op))
            return False
        if isinstance(op, ops.Forwarded):
            # Sub-resources (ACLs, retention…) live at the remote: a pending object gets
            # there before they are read or written. A version listing, too, is the remote's:
            # the bucket's pending changes get there first.
            await journal.uploaded(op.bucket, op.key)
            if op.bucket is not None and op.key is None and ("versions", "") in op.query:
                await journal.bucket_uploaded(op.bucket)
            return False
        return True

    async def _get(self, op: ops.GetObject, journal: Journal | None) -> Result:
        if journal is not None:
            pending = await journal.read(op)
            if pending is not None:
                return pending
        if self.cache is not None and self.cache.settings.enabled:
            return await self.cache.get(op)
        return await self._remote.get_object(op)

    async def _remotely(self, op: ops.Operation, body: StagedBody | None) -> Result:
        remote = self._remote
        match op:
            case ops.PutObject():
                op.conditions.check_write_supported()
                return await remote.put_object(op, _required(body))
            case ops.UploadPart():
                return await remote.upload_part(op, _required(body))
            case ops.ListObjects():
                return cap_page(await remote.list_objects(op))
            case ops.CopyObject():
                await self._check_copy_source(op.source, op.headers)
                return await remote.copy_object(op)
            case ops.DeleteObject():
                return await remote.delete_object(op)
            case ops.DeleteObjects():
                return await remote.delete_objects(op)
            case ops.CreateMultipartUpload():
                return await remote.create_multipart_upload(op)
            case ops.UploadPartCopy():
                await self._check_copy_source(op.source, op.headers)
                return await remote.upload_part_copy(op)
            case ops.CompleteMultipartUpload():
                op.conditions.check_write_supported()
                return await remote.complete_multipart_upload(op)
            case ops.AbortMultipartUpload():
                return await remote.abort_multipart_upload(op)
            case ops.ListParts():
                return await remote.list_parts(op)
            case ops.ListMultipartUploads():
                return await remote.list_multipart_uploads(op)
            case ops.GetObjectTagging():
                return await remote.get_object_tagging(op)
            case ops.PutObjectTagging():
                return await remote.put_object_tagging(op)
            case ops.DeleteObjectTagging():
                return await remote.delete_object_tagging(op)
            case ops.ListBuckets():
                return await remote.list_buckets(op)
            case ops.CreateBucket():
                created = await remote.create_bucket(op)
                if self.journal is not None:
                    self.journal.bucket_exists(op.bucket)
                return created
            case ops.HeadBucket():
                return await remote.head_bucket(op)
            case ops.DeleteBucket():
                return await remote.delete_bucket(op)
            case ops.GetBucketLocation():
                return await remote.get_bucket_location(op)
            case ops.Forwarded():
                return await remote.forward(op, body)
        raise InternalError(f"no way to carry out {type(op).__name__}")

    async def _check_copy_source(self, source: ops.CopySource, headers: Headers) -> None:
        """Evaluate x-amz-copy-source-if-* against the source's current ETag and date.

        The headers also go to the remote, which checks them atomically where it implements
        them; checking here as well gives S3's answer in front of remotes that ignore them.
        """
        if source.conditions.empty:
            return
        sse_c = source_key_for_read(headers)
        head = await self._remote.get_object(
            ops.GetObject(
                source.bucket, source.key, head=True, version_id=source.version_id, headers=sse_c
            )
        )
        etag = header(head.headers, "etag") or ""
        modified = parse_http_date(header(head.headers, "last-modified"))
        if modified is None:
            raise InternalError("the copy source has no Last-Modified date")
        source.conditions.check_copy_source(etag, modified)


RETRY_AFTER = 5
"""Seconds a client is told to wait when pending writes fill the volume."""

_WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})
_OBJECT_WRITES = (
    ops.PutObject,
    ops.CopyObject,
    ops.DeleteObject,
    ops.CompleteMultipartUpload,
    ops.PutObjectTagging,
    ops.DeleteObjectTagging,
)


def written_keys(op: ops.Operation) -> list[tuple[str, str]]:
    """The keys an operation may change (bytes, metadata, tags, ACLs…)."""
    if isinstance(op, _OBJECT_WRITES):
        return [(op.bucket, op.key)]
    if isinstance(op, ops.DeleteObjects):
        return [(op.bucket, o.key) for o in op.objects]
    if isinstance(op, ops.Forwarded) and op.key is not None and op.method in _WRITE_METHODS:
        assert op.bucket is not None
        return [(op.bucket, op.key)]
    return []


async def _bucket_settled(bucket: str, journal: Journal) -> None:
    """Before DeleteBucket reaches the remote: the bucket's pending changes are uploaded, so
    the remote answers as it will once they are (a pending delete of the last object does
    not leave it BucketNotEmpty). A pending object answers BucketNotEmpty at once; a dead
    letter is named in the answer (``s3d journal`` retries or discards it)."""
    _refuse_dead_letters(bucket, list(journal.core.queue.all()))
    if journal.overlay(bucket).puts:
        raise BucketNotEmpty(BucketName=bucket)
    left = await journal.bucket_uploaded(bucket)
    _refuse_dead_letters(bucket, left)
    if left:
        raise SlowDown(
            "Changes of this bucket are still being uploaded; retry once they are.",
            headers={"Retry-After": str(RETRY_AFTER)},
        )


def _refuse_dead_letters(bucket: str, jobs: list[Job]) -> None:
    dead = [job for job in jobs if job.bucket == bucket and job.dead]
    if dead:
        raise BucketNotEmpty(
            f"s3d holds {len(dead)} dead-lettered change(s) of this bucket (ids "
            f"{', '.join(str(job.seq) for job in dead[:10])}): retry or discard them with "
            "`s3d journal` first.",
            BucketName=bucket,
        )


def _unversioned(op: ops.DeleteObjects) -> bool:
    return all(o.version_id is None for o in op.objects)


def _where(op: ops.Operation) -> tuple[str | None, str | None]:
    """The key a write acts on, if it acts on one."""
    if isinstance(op, _KEYED_WRITES):
        return op.bucket, op.key
    return None, None


def customer_keyed(op: ops.Operation) -> bool:
    """A write carrying an SSE-C key (its own or its copy source's)."""
    if isinstance(op, ops.GetObject | ops.ListObjects | ops.Forwarded):
        return False
    return any(name.startswith(_CUSTOMER_KEY_HEADERS) for name, _ in op.headers)


_KEYED_WRITES = (
    ops.PutObject,
    ops.CopyObject,
    ops.DeleteObject,
    ops.CreateMultipartUpload,
    ops.UploadPart,
    ops.UploadPartCopy,
    ops.CompleteMultipartUpload,
    ops.AbortMultipartUpload,
    ops.PutObjectTagging,
    ops.DeleteObjectTagging,
)


_CUSTOMER_KEY_HEADERS = (OWN_PREFIX, SOURCE_PREFIX)


def _required(body: StagedBody | None) -> StagedBody:
    if body is None:
        raise InternalError("an object body was expected and none was staged")
    return body


def _span_attributes(op: ops.Operation) -> Attributes:
    """The gateway span's attributes (its name says the operation): bucket and key."""
    return object_attributes(getattr(op, "bucket", None), getattr(op, "key", None))
