"""The trailer section of an aws-chunked body: the lines after the final (zero-size) chunk.

``name:value`` lines (a checksum such as ``x-amz-checksum-crc32``), for signed bodies then
``x-amz-trailer-signature:<sig>`` chained from the final chunk's signature, then an empty line.
The signature covers the trailers as ``name:value\\n`` lines sorted by name.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from s3d.protocol.errors import InvalidRequest, S3Error, SignatureDoesNotMatch
from s3d.protocol.sigv4_model import SigningContext

MAX_TRAILERS = 16 * 1024
"""Most bytes of trailer lines accepted in all."""
TRAILER_SIGNATURE = "x-amz-trailer-signature"

_NAME = re.compile(rb"[A-Za-z0-9-]+")


def malformed(what: str) -> S3Error:
    """The error for broken aws-chunked framing."""
    return InvalidRequest(f"Malformed aws-chunked body: {what}.")


def trailer_signature(ctx: SigningContext, previous: str, trailer_block: bytes) -> str:
    """The signature of the trailers (``name:value\\n`` lines, sorted by name) following the
    final chunk's signature ``previous``."""
    digest = hashlib.sha256(trailer_block).hexdigest()
    lines = ("AWS4-HMAC-SHA256-TRAILER", ctx.amz_date, str(ctx.scope), previous, digest)
    return hmac.new(ctx.key, "\n".join(lines).encode(), hashlib.sha256).hexdigest()


class TrailerSection:
    """Collects trailer lines. ``allowed``: the mode has trailers at all; ``signed``: they
    end with x-amz-trailer-signature."""

    def __init__(self, *, allowed: bool, signed: bool) -> None:
        self.values: dict[str, str] = {}
        self._allowed = allowed
        self._signed = signed
        self._signature: str | None = None
        self._size = 0

    def add(self, line: bytes) -> None:
        """One non-empty trailer line, without its CRLF."""
        self._size += len(line)
        name_bytes, colon, value_bytes = line.partition(b":")
        name_bytes = name_bytes.strip()
        if not colon or not _NAME.fullmatch(name_bytes):
            raise malformed("bad trailer line")
        if self._size > MAX_TRAILERS or self._signature is not None:
            raise malformed("trailers too long or after x-amz-trailer-signature")
        name, value = name_bytes.decode().lower(), value_bytes.decode("latin-1").strip()
        if name == TRAILER_SIGNATURE and self._signed:
            self._signature = value.lower()
        elif not self._allowed or name == TRAILER_SIGNATURE or name in self.values:
            raise malformed(f"unexpected trailer {name}")
        else:
            self.values[name] = value

    def verify(self, signing: SigningContext, previous: str) -> None:
        """Check x-amz-trailer-signature, chained from the final chunk's signature."""
        if self._signature is None:
            raise malformed("trailers without x-amz-trailer-signature")
        block = "".join(f"{name}:{value}\n" for name, value in sorted(self.values.items()))
        expected = trailer_signature(signing, previous, block.encode("latin-1"))
        if not hmac.compare_digest(expected, self._signature):
            raise SignatureDoesNotMatch()
