"""Giving up abandoned local multipart uploads: by age (a sweeper) and for room (on demand).

A client that never completes nor aborts its upload would otherwise keep the upload's parts on
the volume for ever, and they count as pending bytes: enough of them refuse every write. Owns
the sweeper task (started by ``start``, cancelled by ``aclose``) and the counters of uploads
given up. What to give up is decided in ``s3d/journal/expiry.py``; giving up is
``LocalMultipart.abandon``. Invariant: an upload with a part or completion being recorded is
never given up (``LocalMultipart.idle_uploads`` leaves it out), and space reclaim never takes
one active within ``upload_reclaim_idle`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from s3d.journal import expiry
from s3d.journal.uploads import LocalMultipart
from s3d.settings import JournalSettings

log = logging.getLogger("s3d.journal")


class AbandonedUploads:
    def __init__(self, multipart: LocalMultipart, settings: JournalSettings) -> None:
        self._multipart = multipart
        self._settings = settings
        self._sweeper: asyncio.Task[None] | None = None
        self._reclaiming = asyncio.Lock()
        self.counters = {"uploads_expired": 0, "uploads_reclaimed": 0}

    def start(self) -> None:
        """Start the sweeper (none when ``upload_expiry`` is 0)."""
        if self._settings.upload_expiry > 0 and self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_loop(), name="s3d-upload-expiry")

    async def aclose(self) -> None:
        """Cancel the sweeper and wait for it. Idempotent."""
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    async def sweep(self) -> int:
        """Give up the uploads idle for ``upload_expiry`` seconds; how many. Raises what the
        store raises."""
        now = time.time()
        ids = expiry.expired(self._multipart.idle_uploads(), now, self._settings.upload_expiry)
        return await self._abandon(ids, now, "uploads_expired", "expired")

    async def room_for(self, size: int, pending: Callable[[], int], volume: int) -> bool:
        """Whether ``size`` more bytes fit ``volume`` beside the ``pending`` ones, once the
        uploads idle for ``upload_reclaim_idle`` seconds were given up (oldest first) if that
        makes them fit. Cancelled, an upload being given up still goes."""
        if pending() + size <= volume:
            return True
        async with self._reclaiming:  # one decision at a time: two never pick the same upload
            needed = pending() + size - volume
            if needed <= 0:
                return True
            now = time.time()
            idle_enough = self._settings.upload_reclaim_idle
            ids = expiry.reclaimable(self._multipart.idle_uploads(), now, idle_enough, needed)
            return await self._abandon(ids, now, "uploads_reclaimed", "to make room") > 0

    def status(self) -> dict[str, object]:
        uploads = self._multipart.uploads.values()
        now = time.time()
        oldest = max((expiry.idle(upload, now) for upload in uploads), default=0.0)
        return {
            "uploads_in_progress": len(uploads),
            "upload_bytes": self._multipart.pending_bytes,
            "oldest_upload_idle_seconds": round(oldest, 3),
            **self.counters,
        }

    async def _abandon(self, ids: list[str], now: float, counter: str, why: str) -> int:
        given_up = 0
        for upload_id in ids:
            upload = self._multipart.uploads.get(upload_id)
            if upload is None:
                continue
            await self._multipart.abandon(upload)
            given_up += 1
            self.counters[counter] += 1
            log.info(
                "aborted multipart upload %s of %s/%s (%s): idle %.0fs, %d bytes freed",
                upload_id, upload.bucket, upload.key, why, expiry.idle(upload, now), upload.size,
            )  # fmt: skip
        return given_up

    async def _sweep_loop(self) -> None:
        while True:
            uploads = self._multipart.uploads.values()
            wait = expiry.next_sweep(uploads, time.time(), self._settings.upload_expiry)
            await asyncio.sleep(wait)
            try:
                await self.sweep()
            except Exception:  # a store that failed now may work later: not every 0.1 s
                log.exception("giving up expired multipart uploads failed; trying again later")
                await asyncio.sleep(min(60.0, self._settings.upload_expiry))
