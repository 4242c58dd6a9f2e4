"""A FUSE mount in the daemon's process, on its asyncio loop (pyfuse3's asyncio mode).

Owns the pyfuse3 session: enter to mount (after a stale mount left at the mountpoint by a
killed daemon is cleared), exit to unmount. pyfuse3 keeps its session in module globals, so a
process serves one mount at a time (the daemon refuses a second before mounting any; the check
here stays for other callers). The session loop runs as a task kept here; exit ends it
(requests in flight finish first), unmounts lazily (a process still using the mount keeps its
open files until it lets go) and closes the handles left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Self

import pyfuse3
import pyfuse3.asyncio

from s3d.fuse.filesystem import FileSystem
from s3d.fuse.handles import Handles
from s3d.fuse.kernel import raise_readahead
from s3d.fuse.names import Source
from s3d.fuse.nodes import Nodes
from s3d.fuse.objects import Objects
from s3d.fuse.options import MountOptions
from s3d.fuse.tree import Tree
from s3d.gateway import Gateway
from s3d.settings import FuseSettings, MountSpec

log = logging.getLogger("s3d.fuse")

_active: list[Mount] = []

INIT_WAIT = 10.0
"""Seconds a new mount waits for the kernel's first request (INIT) before tuning it."""

UNMOUNT_GRACE = 10.0
"""Seconds a stopping mount waits for processes to close the files they hold open."""


class Mount:
    """One mount of ``spec`` served through ``gateway``; ``scratch_dir`` holds files being
    written (the staging directory: cleared at start, as nothing there was acknowledged)."""

    def __init__(
        self, gateway: Gateway, spec: MountSpec, settings: FuseSettings, scratch_dir: Path
    ) -> None:
        self.spec = spec
        self._gateway = gateway
        self.source = Source.parse(spec.source)
        self.mountpoint = Path(spec.mountpoint).absolute()
        self.options = MountOptions.of(settings)
        nodes = Nodes(self.source.prefix, self.options.ttl)
        tree = Tree(Objects(gateway, self.source.bucket), nodes)
        self.fs = FileSystem(tree, Handles(tree, scratch_dir), self.options)
        self._task: asyncio.Task[None] | None = None
        self.read_ahead_kib: int | None = None
        """The kernel's readahead for the mount, once mounted (None: unknown)."""

    async def __aenter__(self) -> Self:
        """Mount. Raises OSError: no such directory, the mount refused (no /dev/fuse, no
        permission), or a mount already served by this process (pyfuse3 serves one)."""
        if _active:
            raise OSError(errno.EBUSY, "a daemon serves one FUSE mount; one is already mounted")
        await asyncio.to_thread(clear_stale, self.mountpoint)
        if not self.mountpoint.is_dir():
            raise OSError(errno.ENOENT, "the mount point is not a directory", str(self.mountpoint))
        pyfuse3.asyncio.enable()
        fsname = f"s3d:{self.source.bucket}/{self.source.prefix}".rstrip("/")
        try:
            pyfuse3.init(self.fs, str(self.mountpoint), self.options.kernel_options(fsname))
        except RuntimeError as exc:  # pyfuse3's word for "the kernel refused the mount"
            problem = f"could not mount ({exc}; is /dev/fuse there, and may this user mount?)"
            raise OSError(errno.EPERM, problem, str(self.mountpoint)) from exc
        _active.append(self)
        self._gateway.watchers.append(self.fs.handles.coherence.written)
        self._task = asyncio.create_task(self._serve(), name="s3d-fuse")
        await self._tune()
        log.info("mounted %s at %s", self.spec.source, self.mountpoint)
        return self

    async def _tune(self) -> None:
        """Raise the kernel's readahead once INIT was answered (its reply resets it)."""
        try:
            await asyncio.wait_for(self.fs.initialised.wait(), INIT_WAIT)
        except TimeoutError:
            log.warning(
                "fuse: no INIT from the kernel at %s within %g s", self.mountpoint, INIT_WAIT
            )
            return
        self.read_ahead_kib = await asyncio.to_thread(raise_readahead, self.mountpoint)

    async def _serve(self) -> None:
        try:
            await pyfuse3.main()
        except Exception:
            log.exception("the FUSE session at %s failed", self.mountpoint)

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unmount, end the session, release open files. Idempotent.

        The kernel is told first (a lazy unmount): the session then ends by itself once
        processes let go of the files they hold open, up to ``UNMOUNT_GRACE`` seconds, after
        which it is ended from here."""
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.to_thread(unmount, self.mountpoint)
            try:
                await asyncio.wait_for(asyncio.shield(task), UNMOUNT_GRACE)
            except TimeoutError:
                pyfuse3.terminate()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            self._gateway.watchers.remove(self.fs.handles.coherence.written)
            pyfuse3.close(unmount=False)
            _active.remove(self)
            await self.fs.handles.close_all()
            log.info("unmounted %s", self.mountpoint)

    def status(self) -> dict[str, object]:
        """What ``s3d status`` shows of the mount."""
        tree = self.fs.tree
        return {
            "source": self.spec.source,
            "mountpoint": str(self.mountpoint),
            "read_only": self.options.read_only,
            "read_ahead_kib": self.read_ahead_kib,
            "kernel_invalidations": self.fs.handles.coherence.notified,
            "inodes": len(tree.nodes),
            "hidden_keys": tree.hidden,
            "operations": dict(sorted(self.fs.counts.items())),
        }


def clear_stale(mountpoint: Path) -> None:
    """Unmount what a killed daemon left at ``mountpoint`` ("Transport endpoint is not
    connected"); nothing when the directory answers."""
    try:
        os.stat(mountpoint)
        return
    except OSError as exc:
        if exc.errno != errno.ENOTCONN:
            return
    log.warning("clearing the stale mount at %s left by a daemon that died", mountpoint)
    unmount(mountpoint)


def unmount(mountpoint: Path) -> None:
    """A lazy unmount: the name goes at once, open files stay usable until closed."""
    command = shutil.which("fusermount3") or shutil.which("fusermount")
    args = [command, "-u", "-z", str(mountpoint)] if command else ["umount", "-l", str(mountpoint)]
    subprocess.run(args, check=False, capture_output=True, timeout=30)
