"""The daemon's FUSE mounts (``fuse.mounts``), started once the S3 listener is up.

Entered last into the daemon's exit stack, so they are unmounted first on SIGTERM: readers
and writers of the mount get their last answers (a PUT at close goes into the journal) before
the listener drains and the journal flushes. pyfuse3 is imported only when a mount is
configured: a daemon without mounts needs neither it nor /dev/fuse.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

from s3d.gateway import Gateway
from s3d.settings import Settings


async def start_mounts(stack: AsyncExitStack, gateway: Gateway, settings: Settings) -> list[Any]:
    """Mount each of ``settings.fuse.mounts``; the mounts, for ``s3d status``. Raises OSError
    (mount point missing, mount refused, more than one mount asked)."""
    if not settings.fuse.mounts:
        return []
    if len(settings.fuse.mounts) > 1:
        # Refused before anything is mounted: pyfuse3 keeps its one session in process globals.
        points = ", ".join(spec.mountpoint for spec in settings.fuse.mounts)
        raise OSError(
            errno.EBUSY,
            f"a daemon serves one FUSE mount ({len(settings.fuse.mounts)} asked: {points}); "
            "run one daemon per mount, or mount the bucket and use its prefixes as directories",
        )
    from s3d.fuse.mount import Mount

    mounts = []
    for spec in settings.fuse.mounts:
        scratch = settings.data_dir / "staging"
        mounts.append(await stack.enter_async_context(Mount(gateway, spec, settings.fuse, scratch)))
    return mounts


def mounts_section(
    mounts: Callable[[], list[Any]],
) -> dict[str, Callable[[], Coroutine[Any, Any, dict[str, object]]]]:
    """The ``fuse`` section of ``s3d status``: each mount's source, point and op counts."""

    async def section() -> dict[str, object]:
        return {"mounts": [mount.status() for mount in mounts()]}

    return {"fuse": section}
