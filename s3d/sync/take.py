"""Taking in a sync folder's complete files: fresh stats, the completion rule, the filter,
then ``ingest`` into the journal, one file at a time (hashing is disk- and CPU-bound: more
at once would only compete).

A waiting file whose size or mtime changed restarts its quiet period (a renamed-in file that
changed was not complete: it falls back to quiet). A complete file the filter excludes is
left alone, remembered as it is, until it changes. A file that changed while it was taken in
goes back to waiting; one that cannot be taken in is a failure, shown in ``s3d status``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from s3d.journal.core import describe
from s3d.journal.service import Journal
from s3d.protocol.errors import S3Error
from s3d.rules.decide import RuleList
from s3d.sync.completion import complete
from s3d.sync.ingest import Changed, Identity, ingest
from s3d.sync.scan import stats
from s3d.sync.spec import FolderSpec, excluded, filtered, key_for
from s3d.sync.state import UNKNOWN, FolderState

log = logging.getLogger("s3d.sync")

SharedRules = Callable[[], RuleList]
"""The ``[sync]`` rules of the rule files in force (they change on a reload)."""


class Intake:
    def __init__(
        self,
        spec: FolderSpec,
        state: FolderState,
        journal: Journal,
        staging: Path,
        shared: SharedRules,
    ) -> None:
        self._spec, self._state, self._journal = spec, state, journal
        self._staging, self._shared = staging, shared

    async def take(self, now: Callable[[], float]) -> None:
        """Take in every file complete now. Errors of one file are its failure; cancelled,
        the file being taken in is recorded whole or not at all."""
        await self._observe(now())
        state, spec = self._state, self._spec
        for path in complete(spec, state.waiting, state.markers, now()):
            seen = state.waiting.pop(path, None)
            if seen is None:
                continue  # gone (an event) while the file before it was taken in
            decision = filtered(spec, path, seen.size, self._shared())
            if excluded(decision):
                state.filtered[path] = Identity(seen.ino, seen.size, seen.mtime_ns)
                log.info("sync folder %s: %s left out, %s", spec.name, path, decision.explain())
                continue
            state.ingesting, began = True, time.monotonic()
            try:
                taken = await ingest(
                    self._journal,
                    self._staging,
                    spec.directory / path,
                    spec.bucket,
                    key_for(spec, path),
                    link=spec.after != "keep",
                )
            except Changed:
                state.waiting[path] = replace(seen, changed_at=now(), renamed_in=False)
                continue
            except FileNotFoundError:
                continue
            except (OSError, S3Error) as exc:
                state.failed[path] = describe(exc)
                log.error("sync folder %s: cannot take in %s: %s", spec.name, path, exc)
                continue
            finally:
                state.ingesting = False
            recorded = time.monotonic()
            state.pending[taken.seq] = (path, taken.identity, recorded)
            state.taken[path] = taken.identity
            # The stages a file goes through, for whoever wonders where the time goes.
            log.info(
                "sync folder %s: %s taken in (%d bytes, %s) in %.3f s, %.3f s after it changed",
                spec.name, path, seen.size, "linked" if taken.linked else "copied",
                recorded - began, now() - seen.changed_at - (recorded - began),
            )  # fmt: skip

    async def _observe(self, now: float) -> None:
        """Fresh sizes and mtimes of the waiting files."""
        state = self._state
        paths = list(state.waiting)
        found = await asyncio.to_thread(stats, self._spec.directory, paths)
        for path, identity in zip(paths, found, strict=True):
            seen = state.waiting.get(path)
            if seen is None:
                continue
            if identity is None or state.taken.get(path) == identity:
                del state.waiting[path]
            elif (identity.size, identity.mtime_ns) != (seen.size, seen.mtime_ns):
                known = seen.size != UNKNOWN
                state.waiting[path] = replace(
                    seen,
                    size=identity.size,
                    mtime_ns=identity.mtime_ns,
                    ino=identity.ino,
                    changed_at=now if known else seen.changed_at,
                    renamed_in=seen.renamed_in and not known,
                )
            elif identity.ino != seen.ino:
                state.waiting[path] = replace(seen, ino=identity.ino)
