"""Settling a sync folder's uploads: what the journal reported uploaded is recorded in the
ledger, then kept, deleted or moved (``after.py``); markers go once their files have.

Invariant: a file is removed or moved only after its job's upload was reported and its ledger
row is durable. A job of the folder that left the journal without being reported uploaded was
superseded (another write of its key) or discarded: its file stays, counted as failed.
"""

from __future__ import annotations

import asyncio
import logging
import time

from s3d.sync.after import finish
from s3d.sync.completion import released_by
from s3d.sync.ingest import Identity
from s3d.sync.ledger import Ledger
from s3d.sync.spec import FolderSpec
from s3d.sync.state import FolderState

log = logging.getLogger("s3d.sync")


class Settlement:
    def __init__(self, spec: FolderSpec, state: FolderState, ledger: Ledger) -> None:
        self._spec, self._state, self._ledger = spec, state, ledger

    async def settle(self, alive: set[int]) -> None:
        """Settle the reported uploads; ``alive``: the seqs still in the journal. Raises the
        ledger's errors and OSError (a file could not be removed or moved: tried again at the
        next rescan, its ledger row kept)."""
        state = self._state
        reported, state.reported = state.reported, []
        for seq in reported:
            if seq not in state.pending:
                continue  # another writer's, or another folder's
            path, identity, recorded = state.pending.pop(seq)
            if state.taken.get(path) == identity:
                del state.taken[path]
            state.uploaded += 1
            log.info(
                "sync folder %s: %s uploaded %.3f s after it was taken in",
                self._spec.name, path, time.monotonic() - recorded,
            )  # fmt: skip
            await self._ledger.add(self._spec.name, path, identity)
            await self.finish(path, identity)
            state.used_markers |= {m for m in state.markers if released_by(self._spec, m, [path])}
        # Reports that came during the awaits above wait in ``state.reported``.
        alive |= set(state.reported)
        for seq in [s for s in state.pending if s not in alive]:
            path, identity, _ = state.pending.pop(seq)
            state.taken.pop(path, None)
            state.failed[path] = "superseded by another write of its key before upload"
        await self._finish_markers()

    async def finish(self, path: str, identity: Identity) -> None:
        """Keep, delete or move an uploaded file; its ledger row goes once it is gone."""
        await asyncio.to_thread(finish, self._spec, path, identity)
        if self._spec.after != "keep":
            await self._ledger.remove(self._spec.name, [path])

    async def _finish_markers(self) -> None:
        """A marker goes (deleted or moved) once every file it released has."""
        state = self._state
        busy = [*state.waiting, *state.taken]
        for marker in list(state.used_markers):
            if not released_by(self._spec, marker, busy):
                state.used_markers.discard(marker)
                state.markers.discard(marker)
                await asyncio.to_thread(finish, self._spec, marker, None)
