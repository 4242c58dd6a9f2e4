"""S3 additional checksums (``x-amz-checksum-*``): CRC32, CRC32C, CRC64NVME, SHA1, SHA256.

The CRCs come from ``awscrt.checksums``, the same code the AWS SDKs use, so a value s3d
computes is bit-for-bit the one a client computed. S3 encodes every checksum as the base64 of
its big-endian digest bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable

from awscrt import checksums as _crt

from s3d.protocol.errors import InvalidRequest

ALGORITHMS: tuple[str, ...] = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")

_HEADER_PREFIX = "x-amz-checksum-"
_CRCS: dict[str, tuple[Callable[[bytes | memoryview, int], int], int]] = {
    "CRC32": (_crt.crc32, 4),
    "CRC32C": (_crt.crc32c, 4),
    "CRC64NVME": (_crt.crc64nvme, 8),
}
_HASHES: dict[str, Callable[[], hashlib._Hash]] = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256}
_DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


def _normalize(algorithm: str) -> str:
    name = algorithm.strip().upper()
    if name not in ALGORITHMS:
        raise InvalidRequest(
            f"Checksum algorithm {algorithm!r} is not supported; "
            f"use one of {', '.join(ALGORITHMS)}."
        )
    return name


class Checksum:
    """A running S3 checksum: ``update`` with pieces, then ``digest`` or ``b64digest``."""

    __slots__ = ()
    algorithm: str
    """The algorithm name, upper-case (``"CRC32"``)."""

    @staticmethod
    def new(algorithm: str) -> Checksum:
        """A fresh checksum; ``algorithm`` is case-insensitive. Unknown: InvalidRequest."""
        name = _normalize(algorithm)
        if name in _CRCS:
            function, size = _CRCS[name]
            return _CrcChecksum(name, function, size)
        return _HashChecksum(name, _HASHES[name]())

    def update(self, data: bytes | memoryview) -> None:
        """Feed the next piece of the data."""
        raise NotImplementedError

    def digest(self) -> bytes:
        """The digest bytes (big-endian for the CRCs, as S3 encodes them)."""
        raise NotImplementedError

    def b64digest(self) -> str:
        """The digest as S3 sends it in ``x-amz-checksum-*``: base64."""
        return base64.b64encode(self.digest()).decode("ascii")


class _CrcChecksum(Checksum):
    __slots__ = ("_function", "_size", "_value", "algorithm")

    def __init__(
        self, algorithm: str, function: Callable[[bytes | memoryview, int], int], size: int
    ) -> None:
        self.algorithm = algorithm
        self._function = function
        self._size = size
        self._value = 0

    def update(self, data: bytes | memoryview) -> None:
        self._value = self._function(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")


class _HashChecksum(Checksum):
    __slots__ = ("_hash", "algorithm")

    def __init__(self, algorithm: str, hash_: hashlib._Hash) -> None:
        self.algorithm = algorithm
        self._hash = hash_

    def update(self, data: bytes | memoryview) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()


def header_name(algorithm: str) -> str:
    """The header carrying ``algorithm``'s value: ``"CRC32"`` -> ``"x-amz-checksum-crc32"``."""
    return _HEADER_PREFIX + _normalize(algorithm).lower()


def algorithm_of_header(name: str) -> str | None:
    """The algorithm a checksum header carries (``"x-amz-checksum-crc32c"`` -> ``"CRC32C"``);
    None for any other header, including ``x-amz-checksum-type`` and ``-algorithm``."""
    lowered = name.strip().lower()
    if not lowered.startswith(_HEADER_PREFIX):
        return None
    algorithm = lowered[len(_HEADER_PREFIX) :].upper()
    return algorithm if algorithm in ALGORITHMS else None


def well_formed(algorithm: str, b64value: str) -> bool:
    """Whether ``b64value`` is canonical base64 of a digest of ``algorithm``'s length."""
    size = _DIGEST_SIZES.get(algorithm.strip().upper())
    if size is None:
        return False
    try:
        raw = base64.b64decode(b64value, validate=True)
    except (binascii.Error, ValueError):
        return False
    # Re-encoding rejects values that decode leniently (stray padding bits) but that no
    # SDK would produce, so a value we accept is also the value we would compute.
    return len(raw) == size and base64.b64encode(raw).decode("ascii") == b64value
