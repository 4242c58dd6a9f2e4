"""Small bodies acknowledged with one fsync (``journal/inline.py``): their bytes are committed
with the job, and a crash that loses the not-yet-fsynced file loses nothing acknowledged.

A real core (SQLite and files in ``tmp_path``) and the real acknowledgement path in front of
moto. "The crash" is played by closing the core and then cutting or removing the journal file
(never fsynced: its row is its durable home until the job leaves), which is what the page
cache can leave after a power loss; the kill -9 campaign (test_crash.py) covers the daemon as
a whole.
"""

from __future__ import annotations

import hashlib
import os

from s3d.journal.core import JournalCore
from s3d.journal.inline import INLINE_MAX
from s3d.journal.objects import now
from s3d.journal.records import Put
from s3d.journal.store import Statement, insert_job
from s3d.protocol import operations as ops
from s3d.protocol.conditions import Conditions
from tests.journal.test_acks import Parts, parts

__all__ = ["parts"]


def _file_of(parts: Parts, key: str) -> tuple[Put, str]:
    (job,) = parts.core.queue.of(parts.bucket, key)
    assert isinstance(job.change, Put)
    return job.change, job.change.files[0]


async def _rows(core: JournalCore) -> list[tuple[str, bytes]]:
    return await core.store.inline_bodies()


async def test_a_small_body_is_committed_with_its_job_and_kept_until_it_leaves(
    parts: Parts,
) -> None:
    data = os.urandom(4096)
    answer = await parts.put("small", data)
    change, name = _file_of(parts, "small")
    assert change.etag == f'"{hashlib.md5(data).hexdigest()}"'
    assert parts.core.files.path(name).read_bytes() == data  # readable at once
    assert await _rows(parts.core) == [(name, data)]  # its durable home while pending
    assert dict(answer.headers)["etag"] == change.etag
    (job,) = parts.core.queue.of(parts.bucket, "small")
    await parts.core.completed(job)  # uploaded: the job and its row leave together
    assert await _rows(parts.core) == []


async def test_a_body_kept_in_memory_reaches_its_file_in_the_commit(parts: Parts) -> None:
    data = os.urandom(3000)
    async with parts.staging.writer((), len(data)) as writer:
        await writer.write(data)
        body = await writer.finish()
    assert body.data == data
    assert not body.path.exists()  # staged without a file
    op = ops.PutObject(parts.bucket, "memory", Conditions.from_values(None, None, None, None))
    await parts.acks.put(op, body)
    _change, name = _file_of(parts, "memory")
    assert parts.core.files.path(name).read_bytes() == data
    assert await _rows(parts.core) == [(name, data)]


async def test_a_superseded_body_leaves_its_row_with_its_job(parts: Parts) -> None:
    await parts.put("k", b"first")
    await parts.put("k", b"second")
    _change, name = _file_of(parts, "k")
    assert await _rows(parts.core) == [(name, b"second")]
    await parts.acks.delete(ops.DeleteObject(parts.bucket, "k"))
    assert await _rows(parts.core) == []


async def test_a_body_above_the_limit_is_not_inlined(parts: Parts) -> None:
    await parts.put("large", os.urandom(INLINE_MAX + 1))
    assert await _rows(parts.core) == []


async def test_restart_rewrites_a_file_the_crash_cut_from_its_committed_bytes(
    parts: Parts,
) -> None:
    core = parts.core
    data, other = os.urandom(5000), os.urandom(300)
    name, extra, _ = await core.inline.take(await parts.body(data))
    cut_name, cut_extra, _ = await core.inline.take(await parts.body(other))
    _gone, gone_extra, _ = await core.inline.take(await parts.body(b"superseded"))
    # Committed as the acknowledgement commits them: the rows of two files a job names, and
    # of one no job names any more.
    await core.store.write(extra + cut_extra + gone_extra)
    for statement_name, job_name in ((name, "a"), (cut_name, "b")):
        await core.store.write([_job(parts.bucket, job_name, statement_name)])
    core.files.path(name).unlink()
    os.truncate(core.files.path(cut_name), 10)
    again = JournalCore(core.files.root.parent, core.settings)
    await again.open()
    try:
        assert again.files.path(name).read_bytes() == data
        assert again.files.path(cut_name).read_bytes() == other
        # The named rows stay (still the durable home of their bodies), the unnamed one goes.
        assert sorted(await _rows(again)) == sorted([(name, data), (cut_name, other)])
    finally:
        await again.aclose()


def _job(bucket: str, key: str, name: str) -> Statement:
    change = Put(files=(name,), headers=(), etag='"x"', acknowledged=now(), md5="", sha256="")
    return insert_job(bucket, key, change, 0, 0.0)
