"""Small bodies acknowledged with one fsync: their bytes ride in the journal's transaction.

A PUT's acknowledgement used to cost three fsyncs in a row: the body file, the journal's
directory (the rename), and SQLite's WAL (the job). For a body of at most ``INLINE_MAX``
bytes the file is moved into the journal without an fsync and its bytes are inserted into
``inline_bodies`` in the same transaction as its job: the WAL's one fsync, shared by every
acknowledgement of the batch, makes the job and its bytes durable together. Afterwards (off the
acknowledgement path, batched) the settler fsyncs the files and their directory, then deletes
their rows.

After ``kill -9`` or a power loss, a file whose row is still there may be short or absent:
``restore`` (at start, before anything reads the journal's files) writes it back from its
row, durably, then deletes the rows. A row whose file no job names any more (uploaded,
superseded) is only deleted. Readers and the uploader see the file at once: it is complete in
the page cache from the moment of the rename.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from s3d.journal.files import JournalFiles
from s3d.journal.store import JournalStore, Statement, delete_inline, insert_inline
from s3d.staging import StagedBody

log = logging.getLogger("s3d.journal")

INLINE_MAX = 128 * 1024
"""Largest body committed inline: a batch of eight such PUTs is one WAL write of ~1 MiB."""
SETTLE_AFTER = 0.5
"""Seconds the settler gathers files before settling them together (their fsyncs, one
directory fsync, one commit): settling after each PUT put a second commit and two fsyncs
between one acknowledgement and the next."""
SETTLE_BATCH = 256
"""Files that start a settle at once (bounds the rows, ~32 MiB at most, between settles)."""


class InlineBodies:
    def __init__(self, files: JournalFiles, store: JournalStore) -> None:
        self._files = files
        self._store = store
        self._unsettled: list[str] = []
        self._settler: asyncio.Task[None] | None = None
        self._full = asyncio.Event()

    async def take(self, body: StagedBody) -> tuple[str, list[Statement]]:
        """Move ``body`` into the journal; its name and the statement to commit with its job.
        Raises OSError."""
        name, data = await self._files.take_small(body)
        return name, [insert_inline(name, data)]

    def committed(self, names: list[str]) -> None:
        """The jobs naming ``names`` have committed: settle their files in the background."""
        self._unsettled += names
        if self._settler is None or self._settler.done():
            self._settler = asyncio.create_task(self._settle(), name="s3d-journal-settle")
        elif len(self._unsettled) >= SETTLE_BATCH:
            self._full.set()

    async def _settle(self) -> None:
        while self._unsettled:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SETTLE_AFTER):
                    await self._full.wait()
            self._full.clear()
            names, self._unsettled = self._unsettled, []
            try:
                await self._files.settle(names)
                await self._store.write(delete_inline(names))
            except Exception as exc:  # the rows stay: the next start restores from them
                log.warning("could not settle %d journal files: %s", len(names), exc)
                return

    async def restore(self, referenced: set[str]) -> int:
        """At start: rewrite the files of the rows the jobs name, then delete every row; how
        many files were rewritten. Raises OSError, sqlite3.Error."""
        rows = await self._store.inline_bodies()
        wanted = [(name, data) for name, data in rows if name in referenced]
        await self._files.restore(wanted)
        if rows:
            await self._store.write(delete_inline([name for name, _ in rows]))
        return len(wanted)

    async def aclose(self) -> None:
        """Stop settling (what is left is restored at the next start). Idempotent."""
        settler, self._settler = self._settler, None
        if settler is not None:
            settler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await settler
