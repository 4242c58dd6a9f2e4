"""Large bodies: uploads read the staged file off the event loop, downloads stay bounded.

The memory test talks to a moto server in another process: tracemalloc counts every thread
of this one, and moto builds each GET answer whole.
"""

from __future__ import annotations

import hashlib
import threading
import tracemalloc
from collections.abc import Iterator

import pytest

from s3d.protocol import operations as ops
from s3d.protocol.model import header
from s3d.remote import bodies
from s3d.remote.client import RemoteS3
from tests import support
from tests.remote.conftest import Stage, remote_settings

MiB = 1024 * 1024
BLOCK = bytes(range(256)) * 4096  # 1 MiB
SIZE = 64 * MiB

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def moto_process() -> Iterator[str]:
    with support.moto_process() as url:
        yield url


async def test_upload_reads_the_file_off_the_event_loop(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await stage(BLOCK, times=SIZE // MiB)
    loop_thread = threading.get_ident()
    reads: list[tuple[int, int]] = []
    original = bodies.StagedReader.read

    def spying_read(self: bodies.StagedReader, size: int | None = -1) -> bytes:
        data = original(self, size)
        reads.append((threading.get_ident(), len(data)))
        return data

    monkeypatch.setattr(bodies.StagedReader, "read", spying_read)
    result = await remote_s3.put_object(ops.PutObject(remote_bucket, "big"), body)

    assert header(result.headers, "etag") == body.etag
    assert sum(n for _, n in reads) == SIZE  # read once: nobody hashed the file first
    assert all(thread != loop_thread for thread, _ in reads)


async def test_download_streams_in_bounded_memory(moto_process: str, stage: Stage) -> None:
    async with RemoteS3(remote_settings(moto_process)) as remote:
        await remote.create_bucket(ops.CreateBucket("stream"))
        body = await stage(BLOCK, times=SIZE // MiB)
        await remote.put_object(ops.PutObject("stream", "big"), body)
        expected = hashlib.sha256(BLOCK * (SIZE // MiB)).hexdigest()

        tracemalloc.start()
        try:
            answer = await remote.get_object(ops.GetObject("stream", "big"))
            assert answer.body is not None
            digest, received, largest = hashlib.sha256(), 0, 0
            async for chunk in answer.body:
                digest.update(chunk)
                received += len(chunk)
                largest = max(largest, len(chunk))
            await answer.body.aclose()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert received == SIZE
    assert digest.hexdigest() == expected
    assert largest <= bodies.CHUNK
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB while streaming {SIZE // MiB} MiB"


async def test_closing_a_body_early_releases_it(
    remote_s3: RemoteS3, remote_bucket: str, stage: Stage
) -> None:
    await remote_s3.put_object(ops.PutObject(remote_bucket, "four"), await stage(BLOCK, times=4))
    answer = await remote_s3.get_object(ops.GetObject(remote_bucket, "four"))
    assert answer.body is not None
    first = await anext(aiter(answer.body))
    assert first
    await answer.body.aclose()
    await answer.body.aclose()
    assert [chunk async for chunk in answer.body] == []
    again = await remote_s3.get_object(ops.GetObject(remote_bucket, "four", head=True))
    assert header(again.headers, "content-length") == str(4 * MiB)
