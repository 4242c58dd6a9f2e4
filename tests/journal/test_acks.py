"""The journal's acknowledgement rules, without a daemon: a real core (SQLite and files in
``tmp_path``), the real acknowledgement and read collaborators, and the real remote adapter in
front of moto (asked whether buckets exist and, for conditional writes, what a key holds).
No uploader runs: the queue stays as the acknowledgements leave it, and the tests play the
uploader's part by marking jobs running or picking them with ``runnable``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from s3d.journal.acks import Acknowledgements
from s3d.journal.buckets import KnownBuckets
from s3d.journal.core import JournalCore
from s3d.journal.jobs import runnable
from s3d.journal.reads import Reads
from s3d.journal.records import Delete, Put, Tagging
from s3d.journal.uploads import LocalMultipart
from s3d.protocol import operations as ops
from s3d.protocol.conditions import Conditions
from s3d.protocol.errors import NoSuchKey, NoSuchUpload, PreconditionFailed
from s3d.protocol.model import PENDING
from s3d.remote.client import RemoteS3
from s3d.settings import JournalSettings
from s3d.staging import StagedBody, StagingArea
from tests.support import daemon_settings


@dataclasses.dataclass
class Parts:
    core: JournalCore
    acks: Acknowledgements
    reads: Reads
    multipart: LocalMultipart
    staging: StagingArea
    bucket: str

    async def body(self, data: bytes) -> StagedBody:
        async with self.staging.writer() as writer:
            await writer.write(data)
            return await writer.finish(durable=True)

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> Any:
        conditions = Conditions.from_values(if_match, if_none_match, None, None)
        op = ops.PutObject(self.bucket, key, conditions)
        return await self.acks.put(op, await self.body(data))


@pytest.fixture
async def parts(remote_url: str, remote: Any, tmp_path: Path) -> AsyncIterator[Parts]:
    bucket = f"a-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=bucket)
    settings = JournalSettings(mode="write-back")
    async with RemoteS3(daemon_settings(remote_url, tmp_path).remote) as s3:
        core = JournalCore(tmp_path / "journal", settings)
        await core.open()
        try:
            buckets = KnownBuckets(s3)
            reads = Reads(core, s3)
            acks = Acknowledgements(core, buckets, reads, s3, settings)
            multipart = LocalMultipart(core, buckets, reads)
            staging = await StagingArea(tmp_path / "staging").__aenter__()
            yield Parts(core, acks, reads, multipart, staging, bucket)
            await buckets.aclose()
        finally:
            await core.aclose()


async def reopened(core: JournalCore) -> list[tuple[str, str]]:
    """What the store holds, read back by a new core: (key, kind) in order."""
    again = JournalCore(core.files.root.parent, core.settings)
    await again.open()
    try:
        return [(job.key, job.kind) for job in again.queue.all()]
    finally:
        await again.aclose()


async def test_a_delete_supersedes_the_queued_put_with_its_file(parts: Parts) -> None:
    answer = await parts.put("k", b"one")
    assert answer.provenance == PENDING
    (put,) = parts.core.queue.of(parts.bucket, "k")
    assert isinstance(put.change, Put)
    file = parts.core.files.path(put.change.files[0])
    assert file.read_bytes() == b"one"
    await parts.acks.delete(ops.DeleteObject(parts.bucket, "k"))
    assert [job.kind for job in parts.core.queue.of(parts.bucket, "k")] == ["delete"]
    assert not file.exists()
    assert await reopened(parts.core) == [("k", "delete")]
    with pytest.raises(NoSuchKey):
        await parts.reads.read(ops.GetObject(parts.bucket, "k"))


async def test_a_running_change_is_never_superseded_the_newer_one_waits(parts: Parts) -> None:
    await parts.put("k", b"one")
    (first,) = parts.core.queue.of(parts.bucket, "k")
    first.running = True  # the uploader has it
    await parts.put("k", b"two")
    queued = parts.core.queue.of(parts.bucket, "k")
    assert queued[0] is first
    assert len(queued) == 2
    assert runnable(parts.core.queue, now=0.0, slots=8) == []  # its key waits for it
    first.running = False
    assert runnable(parts.core.queue, now=0.0, slots=8) == [first]
    got = await parts.reads.read(ops.GetObject(parts.bucket, "k"))
    assert got is not None
    assert dict(got.headers)["content-length"] == "3"  # the newer state: "two"


async def test_what_a_change_supersedes_is_held_until_its_commit(parts: Parts) -> None:
    """The decision and the uploader's pick never race: while the delete's transaction is
    in flight, the put it supersedes cannot be picked, and readers see the put until the
    delete is acknowledged, then the delete."""
    await parts.put("k", b"one")
    (put,) = parts.core.queue.of(parts.bucket, "k")
    store = parts.core.store
    original, gate, entered = store.write, asyncio.Event(), asyncio.Event()

    async def slow_write(statements: Any, *files: Any) -> list[int]:
        entered.set()
        await gate.wait()
        return await original(statements, *files)

    store.write = slow_write  # type: ignore[method-assign]
    deleting = asyncio.create_task(parts.acks.delete(ops.DeleteObject(parts.bucket, "k")))
    await entered.wait()
    assert put.held
    assert runnable(parts.core.queue, now=0.0, slots=8) == []
    assert await parts.reads.read(ops.GetObject(parts.bucket, "k", head=True)) is not None
    gate.set()
    await deleting
    assert [job.kind for job in parts.core.queue.of(parts.bucket, "k")] == ["delete"]
    assert not put.held


async def test_a_cancelled_acknowledgement_still_leaves_queue_and_store_agreeing(
    parts: Parts,
) -> None:
    await parts.put("k", b"one")
    store = parts.core.store
    original, entered = store.write, asyncio.Event()

    async def slow_write(statements: Any, *files: Any) -> list[int]:
        entered.set()
        await asyncio.sleep(0.2)
        return await original(statements, *files)

    store.write = slow_write  # type: ignore[method-assign]
    deleting = asyncio.create_task(parts.acks.delete(ops.DeleteObject(parts.bucket, "k")))
    await entered.wait()
    deleting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await deleting
    store.write = original  # type: ignore[method-assign]
    in_memory = [(job.key, job.kind) for job in parts.core.queue.all()]
    assert in_memory == await reopened(parts.core) == [("k", "delete")]


async def test_conditional_puts_against_pending_state(parts: Parts) -> None:
    answer = await parts.put("k", b"one", if_none_match="*")
    etag = dict(answer.headers)["etag"]
    with pytest.raises(PreconditionFailed):
        await parts.put("k", b"two", if_none_match="*")
    with pytest.raises(PreconditionFailed):
        await parts.put("k", b"two", if_match='"0123"')
    with pytest.raises(PreconditionFailed):
        await parts.put("k", b"two", if_match=f"W/{etag}")  # a weak tag never matches
    await parts.put("k", b"two", if_match=etag)
    await parts.acks.delete(ops.DeleteObject(parts.bucket, "k"))
    with pytest.raises(NoSuchKey):
        await parts.put("k", b"three", if_match="*")
    await parts.put("k", b"three", if_none_match="*")  # a pending delete: absent


async def test_tags_of_a_pending_put_are_rewritten_in_place_unless_it_runs(
    parts: Parts,
) -> None:
    await parts.put("k", b"one")
    (put,) = parts.core.queue.of(parts.bucket, "k")
    await parts.acks.tagging(ops.PutObjectTagging(parts.bucket, "k", (("a", "1"),)))
    assert parts.core.queue.of(parts.bucket, "k") == [put]
    assert parts.reads.pending_tags(parts.bucket, "k") == (("a", "1"),)
    put.running = True
    await parts.acks.tagging(ops.PutObjectTagging(parts.bucket, "k", (("b", "2"),)))
    kinds = [job.change for job in parts.core.queue.of(parts.bucket, "k")]
    assert kinds[1:] == [Tagging((("b", "2"),))]
    assert parts.reads.pending_tags(parts.bucket, "k") == (("b", "2"),)
    assert await reopened(parts.core) == [("k", "put"), ("k", "tagging")]
    assert not any(isinstance(change, Delete) for change in kinds)


async def test_an_abort_waits_for_the_part_being_recorded(parts: Parts) -> None:
    """An abort never deletes an upload under a part being written (whose row would then
    break the foreign key, failing every write committed with it); a second completion of an
    upload finds it gone."""
    created = await parts.multipart.create_upload(ops.CreateMultipartUpload(parts.bucket, "m"))
    upload_id = created.upload_id
    store = parts.core.store
    original, gate, entered = store.write, asyncio.Event(), asyncio.Event()

    async def slow_write(statements: Any, *files: Any) -> list[int]:
        if any("INTO parts" in sql for sql, _ in statements):
            entered.set()
            await gate.wait()
        return await original(statements, *files)

    store.write = slow_write  # type: ignore[method-assign]
    part = ops.UploadPart(parts.bucket, "m", upload_id, 1)
    writing = asyncio.create_task(parts.multipart.upload_part(part, await parts.body(b"p")))
    await entered.wait()
    aborting = asyncio.create_task(
        parts.multipart.abort(ops.AbortMultipartUpload(parts.bucket, "m", upload_id))
    )
    await asyncio.sleep(0.05)
    assert not aborting.done()  # it waits for the part
    gate.set()
    await writing
    await aborting
    assert upload_id not in parts.multipart.uploads
    assert list(parts.core.files.root.iterdir()) == []
    with pytest.raises(NoSuchUpload):
        await parts.multipart.complete(
            ops.CompleteMultipartUpload(parts.bucket, "m", upload_id, ())
        )


async def test_acknowledgements_under_way_are_counted_and_their_end_wakes_the_uploader(
    parts: Parts,
) -> None:
    core = parts.core
    async with core.locked([(parts.bucket, "a")]):
        async with core.locked([(parts.bucket, "b")]):
            assert core.acknowledging == 2
        core.wake.clear()
    assert core.acknowledging == 0
    assert core.wake.is_set()
