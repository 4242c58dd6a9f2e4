"""The sync folders as one running service (docs/sync.md).

Enter to start: the folders' specs are checked (``ConfigError``), their directories created if
missing, the ledger opened, the journal asked to tell each upload, and for each folder a
watcher and its loop started (the loop's first step is the full rescan: events were lost while
the daemon was down). Where inotify cannot watch a folder (``sync.watch = "auto"``), or with
``sync.watch = "poll"``, the folder is polled instead; with ``"inotify"`` that refuses the
start. Exit to stop: loops and watchers are cancelled — a file being taken in
is either recorded whole or not at all (the journal sees a commit through) — the journal is
told no more, and the ledger closed. Enter after the journal and exit before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Self

from s3d.database import Database
from s3d.journal.jobs import Job
from s3d.journal.service import Journal
from s3d.settings import ConfigError, SyncSettings
from s3d.sync.folder import Folder, no_rules
from s3d.sync.ledger import Ledger
from s3d.sync.spec import compile_folder
from s3d.sync.take import SharedRules
from s3d.sync.watch import Unavailable, Watcher

log = logging.getLogger("s3d.sync")

StatusSection = Callable[[], Awaitable[Mapping[str, object]]]


class SyncFolders:
    def __init__(
        self,
        settings: SyncSettings,
        journal: Journal,
        data_dir: Path,
        shared: SharedRules | None = None,
    ) -> None:
        """``shared``: the ``[sync]`` rules of the rule files in force, asked at each file."""
        self._journal, self._watch = journal, settings.watch
        self._staging = data_dir / "staging"
        self._ledger = Ledger(
            Database(data_dir / "sync" / "ledger.sqlite", "sync ledger", synchronous="FULL")
        )
        specs = [compile_folder(entry, i) for i, entry in enumerate(settings.folders)]
        shared = shared or no_rules
        self.folders = [
            Folder(
                spec,
                journal,
                self._staging,
                self._ledger,
                settings.rescan_interval,
                shared=shared,
                poll_interval=settings.poll_interval,
            )
            for spec in specs
        ]
        self._stack = contextlib.AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _start(self) -> None:
        await self._stack.enter_async_context(self._ledger)
        self._journal.core.on_uploaded.append(self._uploaded)
        for folder in self.folders:
            directory = folder.spec.directory
            await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
            watcher = await self._watcher(folder)
            if watcher is not None:
                feed = _feed(watcher, folder)
                self._tasks.append(asyncio.create_task(feed, name="s3d-sync-watch"))
            self._tasks.append(asyncio.create_task(folder.run(), name="s3d-sync-folder"))
            log.info("sync folder %s -> s3://%s/", directory, folder.spec.bucket)

    async def _watcher(self, folder: Folder) -> Watcher | None:
        """The folder's inotify watcher; None when it is polled (then told so)."""
        if self._watch != "poll":
            try:
                return await self._stack.enter_async_context(Watcher(folder.spec.directory))
            except Unavailable as exc:
                if self._watch == "inotify":
                    raise ConfigError(f"sync.watch = inotify: {exc}") from None
                log.warning("sync folder %s: %s", folder.spec.name, exc)
        folder.poll()
        return None

    async def aclose(self) -> None:
        """Cancel the loops, stop listening to the journal, close. Idempotent."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(ValueError):
            self._journal.core.on_uploaded.remove(self._uploaded)
        await self._stack.aclose()

    def _uploaded(self, job: Job) -> None:
        for folder in self.folders:
            folder.uploaded(job.seq)

    def sections(self) -> dict[str, StatusSection]:
        """One ``s3d status`` section per folder."""

        def section(folder: Folder) -> StatusSection:
            async def status() -> Mapping[str, object]:
                return folder.status()

            return status

        return {f"sync {folder.spec.name}": section(folder) for folder in self.folders}


async def _feed(watcher: Watcher, folder: Folder) -> None:
    async for event in watcher.events():
        folder.event(event)
