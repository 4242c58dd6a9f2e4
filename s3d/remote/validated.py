"""A GET's body checked against the checksum the remote stored, as botocore checks it.

When a GetObject asks for checksums (``x-amz-checksum-mode: ENABLED``, as the cache's reads
do) and the remote answers the whole object with a full-object checksum header, botocore
hashes the body as it streams and fails the read at its end when the digest differs. The
native data path does the same here: the first of ``PRIORITY`` the answer carries, the
algorithm's work done chunk by chunk as the reader takes them. Composite checksums (a
multipart object's ``…-N`` values) and ranged answers cannot be checked, as in botocore.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from s3d.protocol.checksums import Checksum
from s3d.protocol.errors import InternalError
from s3d.protocol.model import ByteStream

PRIORITY = ("CRC64NVME", "CRC32C", "CRC32", "SHA1", "SHA256")
"""Botocore's order of preference among the checksums an answer carries."""


def expected_checksum(
    requested: Mapping[str, str], answer: Mapping[str, str]
) -> tuple[str, str] | None:
    """(algorithm, base64 value) to check a 200 answer's body against, or None."""
    if requested.get("x-amz-checksum-mode", "").upper() != "ENABLED":
        return None
    for algorithm in PRIORITY:
        value = answer.get(f"x-amz-checksum-{algorithm.lower()}")
        if value and "-" not in value:
            return algorithm, value
    return None


class ValidatedStream:
    """``body``'s chunks, hashed on the way; raises InternalError after the last one when the
    digest is not ``expected``. ``aclose`` closes ``body``."""

    def __init__(self, body: ByteStream, algorithm: str, expected: str) -> None:
        self._body = body
        self._chunks = body.__aiter__()
        self._checksum = Checksum.new(algorithm)
        self._expected = expected

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        """The next chunk. Raises InternalError at the end of a body that does not match,
        ServiceUnavailable as the body does; cancellation leaves closing to the owner."""
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            if self._checksum.b64digest() != self._expected:
                raise InternalError(
                    "The data received from the remote S3 endpoint did not match its checksum"
                ) from None
            raise
        self._checksum.update(chunk)
        return chunk

    async def aclose(self) -> None:
        """Close the body (its connection). Idempotent."""
        await self._body.aclose()
