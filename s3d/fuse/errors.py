"""The errno edge: every failure of a file operation leaves as a ``FUSEError``.

pyfuse3 answers only ``FUSEError`` to the kernel; anything else raised in a handler would end
its worker task and leave the caller hanging, so ``errno_edge`` wraps every operation. S3
errors map by code to the errno POSIX callers understand; an unexpected exception is logged
and becomes EIO (the data is not lost: nothing was acknowledged).
"""

from __future__ import annotations

import contextvars
import errno
import functools
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import pyfuse3

from s3d.protocol.errors import S3Error
from s3d.telemetry import trace, tracing

in_request: contextvars.ContextVar[bool] = contextvars.ContextVar("fuse_request", default=False)
"""True in the tasks serving FUSE requests (set by ``errno_edge``)."""

log = logging.getLogger("s3d.fuse")

_BY_CODE = {
    "NoSuchKey": errno.ENOENT,
    "NoSuchBucket": errno.ENOENT,
    "NoSuchUpload": errno.ENOENT,
    "AccessDenied": errno.EACCES,
    "SlowDown": errno.ENOSPC,  # pending writes fill the volume
    "KeyTooLongError": errno.ENAMETOOLONG,
    "EntityTooLarge": errno.EFBIG,
    "InvalidObjectState": errno.EACCES,  # archived (Glacier) objects cannot be read
}

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", bound="Counted")


def errno_of(exc: BaseException) -> int:
    """The errno a failure is answered with."""
    if isinstance(exc, pyfuse3.FUSEError):
        return exc.errno
    if isinstance(exc, S3Error):
        return _BY_CODE.get(exc.error_code, errno.EIO)
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    return errno.EIO


def refuse(code: int) -> pyfuse3.FUSEError:
    return pyfuse3.FUSEError(code)


class Counted(Protocol):
    counts: Counter[str]


def errno_edge(
    operation: Callable[Concatenate[C, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[C, P], Coroutine[Any, Any, T]]:
    """Wrap an operation: counted by name in its owner's ``counts``, traced (a ``fuse <name>``
    span, the gateway's spans inside it) when tracing is on, failures made errnos."""
    name = operation.__name__

    @functools.wraps(operation)
    async def edge(owner: C, *args: P.args, **kwargs: P.kwargs) -> T:
        owner.counts[name] += 1
        in_request.set(True)  # the task serves FUSE requests only (pyfuse3's worker)
        try:
            if not tracing():
                return await operation(owner, *args, **kwargs)
            # A root span: a file operation comes from the kernel, never inside a request.
            with trace(f"fuse {name}", root=True):
                return await operation(owner, *args, **kwargs)
        except pyfuse3.FUSEError:
            raise
        except (S3Error, OSError) as exc:
            log.debug("fuse %s failed: %s", name, exc)
            raise pyfuse3.FUSEError(errno_of(exc)) from exc
        except Exception as exc:
            log.exception("fuse %s failed", name)
            raise pyfuse3.FUSEError(errno.EIO) from exc

    return edge  # type: ignore[return-value]  # functools.wraps hides the positional owner
