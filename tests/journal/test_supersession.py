"""Per-key order and read-your-writes when a newer change supersedes an older one, in every
interleaving of the older change's upload with the newer change's acknowledgement.

A real daemon in write-back with two upload slots, in front of moto behind a relay that holds
chosen requests; two ``blocker`` objects keep the slots busy as long as the test wants (two,
so that once they go, the older change and the newer one could both run at once). Key ``k``
has an older change (PUT v1); a newer change (DELETE, or PUT v2) is acknowledged while the
older one is driven into a phase — still ``queued``, ``picked`` by the uploader, ``running``,
``done`` — at one of two moments of the newer change's acknowledgement: before it is recorded
(``record``) or while its transaction commits (``commit``). The pauses are injected into the
daemon's own journal (its ``record`` and its store's ``write``), on its event loop.

Whatever the interleaving: reads through s3d answer the newer state from its acknowledgement
on, the remote ends with the newer state, and no write of v1 reaches the remote after the
newer change's. Before supersession and the uploader's pick were one decision, the ``picked``
cases lost an acknowledged DELETE (or overwrite) at the remote.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.journal.test_writeback import drained, writeback
from tests.support import CountingRelay, DaemonThread, client

V1 = b"version one " * 1000
V2 = b"version two " * 1200
PHASES = ("queued", "picked", "running", "done")
MOMENTS = ("record", "commit")
NEWER = ("delete", "overwrite")


class Pause:
    """Holds the newer change of ``key`` at one moment of its acknowledgement, on the daemon's
    loop: ``reached`` once it waits there, ``release`` to let it go on."""

    def __init__(self, daemon: DaemonThread, key: str, moment: str) -> None:
        self.reached = threading.Event()
        self._daemon = daemon
        self._open: asyncio.Event | None = None
        daemon.call(self._install(key, moment))

    async def _install(self, key: str, moment: str) -> None:
        self._open = asyncio.Event()
        journal = self._daemon.daemon.journal  # type: ignore[union-attr]
        assert journal is not None
        core = journal.core
        if moment == "record":
            original_record = core.record

            async def record(changes: Any, *rest: Any) -> Any:
                if any(change.key == key for change in changes):
                    await self._wait()
                return await original_record(changes, *rest)

            core.record = record  # type: ignore[method-assign]
        else:
            original_write = core.store.write

            async def write(statements: Any, *files: Any) -> Any:
                if any(sql.startswith("INSERT INTO jobs") and p[1] == key for sql, p in statements):
                    await self._wait()
                return await original_write(statements, *files)

            core.store.write = write  # type: ignore[method-assign]

    async def _wait(self) -> None:
        assert self._open is not None
        self.reached.set()
        await self._open.wait()

    def release(self) -> None:
        loop = self._daemon._loop
        assert loop is not None
        assert self._open is not None
        loop.call_soon_threadsafe(self._open.set)


def until(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


def uploaded(daemon: DaemonThread) -> int:
    journal = daemon.daemon.journal  # type: ignore[union-attr]
    assert journal is not None
    return int(journal.core.counters["uploaded"])


def shows_newer(s3: Any, bucket: str, newer: str) -> None:
    if newer == "delete":
        with pytest.raises(ClientError) as refused:
            s3.get_object(Bucket=bucket, Key="k")
        assert refused.value.response["Error"]["Code"] == "NoSuchKey"
    else:
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == V2


@pytest.mark.parametrize("newer", NEWER)
@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("phase", PHASES)
def test_the_newer_change_wins_in_every_interleaving(
    relay: CountingRelay, remote: Any, tmp_path: Path, phase: str, moment: str, newer: str
) -> None:
    bucket = f"w-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=bucket)
    blocker, k = f"/{bucket}/blocker", f"/{bucket}/k"
    with writeback(relay.url, tmp_path, upload_concurrency=2) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold("PUT", blocker)
        relay.hold("PUT", k, body=V1)
        for n in (1, 2):
            s3.put_object(Bucket=bucket, Key=f"blocker{n}", Body=b"b")
        until(lambda: relay.count("PUT", blocker) == 2, "the blockers' uploads in the relay")
        s3.put_object(Bucket=bucket, Key="k", Body=V1)
        if phase in ("running", "done"):  # v1 starts before the newer change comes
            relay.hold("PUT", blocker, False)
            until(lambda: relay.count("PUT", k) == 1, "v1's upload in the relay")
        pause = Pause(daemon, "k", moment)
        with ThreadPoolExecutor(1) as pool:
            if newer == "delete":
                answer = pool.submit(s3.delete_object, Bucket=bucket, Key="k")
            else:
                answer = pool.submit(s3.put_object, Bucket=bucket, Key="k", Body=V2)
            assert pause.reached.wait(30), "the newer change never reached its pause"
            if phase == "picked":  # the slot frees while the newer change is under way
                relay.hold("PUT", blocker, False)
                until(lambda: uploaded(daemon) >= 2, "the blockers uploaded")
                time.sleep(0.3)  # the uploader's turn to pick what it may
            elif phase == "done":  # v1 lands while the newer change is under way
                relay.hold("PUT", k, False, body=V1)
                until(lambda: uploaded(daemon) >= 3, "v1 uploaded")
            pause.release()
            answer.result(30)
        shows_newer(s3, bucket, newer)
        relay.hold("PUT", blocker, False)
        relay.hold("PUT", k, False, body=V1)
        shows_newer(s3, bucket, newer)
        drained(daemon)
        shows_newer(s3, bucket, newer)
    if newer == "delete":
        with pytest.raises(ClientError):
            remote.head_object(Bucket=bucket, Key="k")
    else:
        assert remote.get_object(Bucket=bucket, Key="k")["Body"].read() == V2
    writes = [(method, body) for method, path, body in relay.writes if path.startswith(k)]
    newest = max(i for i, (method, body) in enumerate(writes) if method == "DELETE" or body == V2)
    assert all(i < newest for i, (_, body) in enumerate(writes) if body == V1), writes
