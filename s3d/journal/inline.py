"""Small bodies acknowledged with one fsync: their bytes ride in the journal's transaction.

A PUT's acknowledgement used to cost three fsyncs in a row: the body file, the journal's
directory (the rename), and SQLite's WAL (the job). For a body of at most ``INLINE_MAX``
bytes, its bytes are inserted into ``inline_bodies`` in the same transaction as its job, and its
journal file is written without an fsync: the WAL's one fsync, shared by every
acknowledgement of the batch, makes the job and its bytes durable together. A body kept in
memory by staging (``StagedBody.data``) is written to its journal file in the commit's own
worker-thread hop: from the request to the acknowledgement it costs that one hop.

The row stays the body's durable home until its job leaves the journal (uploaded,
superseded, discarded): it is deleted in the transaction that deletes the job. The file is
never fsynced by the journal, so each body is written to disk once in the WAL, and once, when
the kernel gets to it, as a file.

After ``kill -9`` or a power loss, a file whose row is still there may be short or absent:
``restore`` (at start, before anything reads the journal's files) writes it back from its
row, and the row stays until its job leaves; a start is a read of the rows, not an fsync per
pending body. A row whose file no job names any more is deleted.
Readers and the uploader see the file at once: it is complete in the page cache from the
moment the job is queued.
"""

from __future__ import annotations

import uuid

from s3d.journal.files import JournalFiles
from s3d.journal.store import Files, JournalStore, Statement, delete_inline, insert_inline
from s3d.staging import MEMORY_MAX, StagedBody

INLINE_MAX = MEMORY_MAX
"""Largest body committed inline: a batch of eight such PUTs is one WAL write of ~1 MiB. The
same as the largest body staging keeps in memory: every such body is committed inline."""


class InlineBodies:
    def __init__(self, files: JournalFiles, store: JournalStore) -> None:
        self._files = files
        self._store = store

    async def take(self, body: StagedBody) -> tuple[str, list[Statement], Files]:
        """Take ``body`` into the journal: its name, the statement to commit with its job and
        the file to write in the commit (a body in memory: no hop here); a body on disk is
        renamed into the journal (one hop). Raises OSError."""
        if body.data is not None:
            name = uuid.uuid4().hex
            return name, [insert_inline(name, body.data)], [(self._files.path(name), body.data)]
        name, data = await self._files.take_small(body)
        return name, [insert_inline(name, data)], ()

    async def restore(self, referenced: set[str]) -> int:
        """At start: write back the files of the rows the jobs name that a crash left short
        or missing (the rows stay: still their durable home), and delete the rows no job
        names; how many files were written back. Raises OSError, sqlite3.Error."""
        rows = await self._store.inline_bodies()
        rewritten = await self._files.restore([r for r in rows if r[0] in referenced])
        unnamed = [name for name, _ in rows if name not in referenced]
        if unnamed:
            await self._store.write(delete_inline(unnamed))
        return rewritten
