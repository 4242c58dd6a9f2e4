"""Bodies crossing the remote edge: staged files going out, response bodies coming in.

``StagedReader`` is the file object given to botocore for PutObject and UploadPart: seekable
(botocore rewinds it to retry), length-aware, reading with ``os.pread``. It is an
``io.RawIOBase``, so aiohttp sends it as a file payload whose reads run in its executor, never
on the event loop; it has no ``name``, so aiohttp adds no Content-Disposition of its own.

``BodyStream`` is a response body handed upwards as a ``ByteStream``: chunks of at most
``CHUNK`` bytes as they arrive, transport failures mapped to ``S3Error``; ``aclose`` releases
the connection (closing it when the body was not read to its end).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Self

from s3d.protocol.errors import InternalError
from s3d.remote.errors import map_errors
from s3d.staging import StagedBody

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 256 * 1024


class StagedReader(io.RawIOBase):
    """A staged body's file (or a region of it, from ``offset``), read at a position of its
    own."""

    def __init__(self, fd: int, size: int, offset: int = 0) -> None:
        super().__init__()
        self._fd = fd
        self._size = size
        self._offset = offset
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        remaining = max(0, self._size - self._position)
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        data = os.pread(self._fd, wanted, self._offset + self._position) if wanted else b""
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


class LentReader(StagedReader):
    """A ``StagedReader`` given to aiohttp itself, which closes a file payload once sent: its
    ``close`` keeps the file open for the next attempt; ``release`` closes it."""

    def close(self) -> None:
        pass

    def release(self) -> None:
        super().close()


@contextlib.asynccontextmanager
async def staged_reader(body: StagedBody, *, lent: bool = False) -> AsyncIterator[StagedReader]:
    """Open ``body``'s file (in a worker thread) for the length of one remote call; the file
    is closed on exit (a ``LentReader`` when ``lent``). Raises InternalError when the file
    cannot be opened; cancelled while opening, it closes what the thread opens."""
    opening = asyncio.ensure_future(asyncio.to_thread(os.open, body.path, os.O_RDONLY))
    try:
        fd = await asyncio.shield(opening)
    except OSError as exc:
        raise InternalError("A staged request body could not be read") from exc
    except asyncio.CancelledError:
        # The thread finishes the open anyway: close what it opens.
        opening.add_done_callback(_close_opened)
        raise
    reader = (LentReader if lent else StagedReader)(fd, body.size, body.offset)
    try:
        yield reader
    finally:
        if isinstance(reader, LentReader):
            reader.release()
        else:
            reader.close()


def _close_opened(task: asyncio.Future[int]) -> None:
    if not task.cancelled() and task.exception() is None:
        os.close(task.result())


class BodyStream:
    """A response body: iterate for chunks, always ``aclose()``."""

    def __init__(self, read: Callable[[int], Awaitable[bytes]], close: Callable[[], object]):
        self._read = read
        self._close = close
        self._closed = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        """The next chunk. Raises ServiceUnavailable when the remote breaks off mid-body;
        cancellation leaves the stream to be closed by its owner."""
        if self._closed:
            raise StopAsyncIteration
        with map_errors():
            chunk = await self._read(CHUNK)
        if not chunk:
            await self.aclose()
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """Release the connection; a body not read to its end closes it. Idempotent."""
        if not self._closed:
            self._closed = True
            self._close()
