"""The aws-chunked body decoder, sans-IO: bytes in, payload pieces out.

Theory of operation. An aws-chunked body is a run of chunks, each ``<hex size>[;ext]\\r\\n``,
the data, ``\\r\\n``; a zero-size chunk ends the data and is followed by a trailer section
(``name:value\\r\\n`` lines, then an empty line). Three modes exist, named by
x-amz-content-sha256:

- STREAMING-AWS4-HMAC-SHA256-PAYLOAD (``signing`` set, ``trailer=False``): every chunk header
  carries ``chunk-signature=<sig>``, chained from the request's seed signature; the trailer
  section is empty.
- STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER (``signing`` set, ``trailer=True``): as above, and
  the trailers end with ``x-amz-trailer-signature:<sig>``, chained from the final chunk's.
- STREAMING-UNSIGNED-PAYLOAD-TRAILER (``signing=None``, ``trailer=True``): no signatures; chunk
  extensions, if any, are ignored. Integrity comes from the checksum trailer.

State is one of: a header or trailer line being collected (at most ``MAX_LINE`` bytes kept),
chunk data passing through (counted down, hashed for its signature, never buffered), the CRLF
after the data, done. Payload is handed back as it arrives; a chunk's signature is checked when
its last byte arrives, so the caller must treat what it received as provisional until
``finish`` returns.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from s3d.protocol.chunked_trailers import TrailerSection, malformed, trailer_signature
from s3d.protocol.errors import IncompleteBody, SignatureDoesNotMatch
from s3d.protocol.sigv4_model import EMPTY_SHA256, SigningContext

__all__ = ["MAX_LINE", "ChunkedDecoder", "chunk_signature", "trailer_signature"]

MAX_LINE = 4096
"""Longest chunk header or trailer line accepted, CRLF included."""

_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)
_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_SIGNATURE = re.compile(rb"chunk-signature=([0-9a-fA-F]{64})")


def chunk_signature(ctx: SigningContext, previous: str, chunk: bytes) -> str:
    """The signature of ``chunk`` following the signature ``previous``."""
    return _chunk_signature(ctx, previous, hashlib.sha256(chunk).hexdigest())


def _chunk_signature(ctx: SigningContext, previous: str, chunk_sha256: str) -> str:
    lines = ("AWS4-HMAC-SHA256-PAYLOAD", ctx.amz_date, str(ctx.scope), previous, EMPTY_SHA256)
    to_sign = "\n".join((*lines, chunk_sha256))
    return hmac.new(ctx.key, to_sign.encode(), hashlib.sha256).hexdigest()


class ChunkedDecoder:
    """Decodes one aws-chunked body. ``feed`` the bytes as they come, then ``finish``."""

    def __init__(
        self, *, signing: SigningContext | None, trailer: bool, decoded_length: int | None
    ) -> None:
        self._signing = signing
        self._trailer = trailer
        self._expected = decoded_length
        self._state = _HEADER
        self._line = bytearray()
        self._remaining = 0
        self._crlf = 0
        self._hash: hashlib._Hash | None = None
        self._previous = signing.seed_signature if signing is not None else ""
        self._claimed = ""
        self._decoded = 0
        self._section = TrailerSection(allowed=trailer, signed=signing is not None and trailer)

    @property
    def done(self) -> bool:
        """Whether the final chunk and the trailer section have been read."""
        return self._state == _DONE

    def feed(self, data: bytes) -> list[bytes]:
        """Decode the next bytes of the body; the payload pieces they complete, in order.

        Raises InvalidRequest (framing), SignatureDoesNotMatch (a chunk or the trailers),
        IncompleteBody (more payload than x-amz-decoded-content-length, or fewer at the end).
        """
        out: list[bytes] = []
        view = memoryview(data)
        position = 0
        while position < len(data):
            if self._state == _DATA:
                position = self._data(data, view, position, out)
            elif self._state == _DATA_END:
                position = self._data_end(data, position)
            elif self._state == _DONE:
                raise malformed("data after the final chunk")
            else:
                position = self._collect_line(data, position)
        return out

    def finish(self) -> dict[str, str]:
        """At the end of input: the trailers (lower-case names). IncompleteBody if the body
        ended before its final chunk and trailer section."""
        if self._state != _DONE:
            raise IncompleteBody("The aws-chunked body ended before its final chunk.")
        return dict(self._section.values)

    def _data(self, data: bytes, view: memoryview, position: int, out: list[bytes]) -> int:
        take = min(self._remaining, len(data) - position)
        piece = view[position : position + take]
        if self._hash is not None:
            self._hash.update(piece)
        out.append(data if take == len(data) else bytes(piece))
        self._remaining -= take
        if self._remaining == 0:
            if self._signing is not None and self._hash is not None:
                self._check_chunk(self._signing, self._hash.hexdigest())
            self._state, self._crlf = _DATA_END, 0
        return position + take

    def _data_end(self, data: bytes, position: int) -> int:
        while self._crlf < 2 and position < len(data):
            if data[position] != b"\r\n"[self._crlf]:
                raise malformed("chunk data not followed by CRLF")
            self._crlf += 1
            position += 1
        if self._crlf == 2:
            self._state = _HEADER
        return position

    def _collect_line(self, data: bytes, position: int) -> int:
        room = MAX_LINE - len(self._line)
        newline = data.find(b"\n", position, position + room)
        if newline < 0:
            if len(data) - position >= room:
                raise malformed("chunk header or trailer line too long")
            self._line += data[position:]
            return len(data)
        end = newline + 1
        if self._line:
            self._line += data[position:end]
            line = bytes(self._line)
            self._line.clear()
        else:
            line = data[position:end]
        if not line.endswith(b"\r\n"):
            raise malformed("line not terminated by CRLF")
        if self._state == _HEADER:
            self._chunk_header(line[:-2])
        else:
            self._trailer_line(line[:-2])
        return end

    def _chunk_header(self, line: bytes) -> None:
        size_text, _, extension = line.partition(b";")
        if not _SIZE.fullmatch(size_text):
            raise malformed(f"bad chunk size {size_text[:32]!r}")
        size = int(size_text, 16)
        if self._signing is not None:
            match = _SIGNATURE.fullmatch(extension)
            if match is None:
                raise malformed("chunk without a valid chunk-signature")
            self._claimed = match.group(1).decode().lower()
        self._decoded += size
        if self._expected is not None and self._decoded > self._expected:
            raise IncompleteBody("The aws-chunked body is longer than its decoded length.")
        if size:
            self._remaining = size
            self._hash = hashlib.sha256() if self._signing is not None else None
            self._state = _DATA
            return
        if self._signing is not None:
            self._check_chunk(self._signing, EMPTY_SHA256)
        if self._expected is not None and self._decoded != self._expected:
            raise IncompleteBody("The aws-chunked body is shorter than its decoded length.")
        self._state = _TRAILER

    def _check_chunk(self, signing: SigningContext, chunk_sha256: str) -> None:
        expected = _chunk_signature(signing, self._previous, chunk_sha256)
        if not hmac.compare_digest(expected, self._claimed):
            raise SignatureDoesNotMatch()
        self._previous = expected

    def _trailer_line(self, line: bytes) -> None:
        if line:
            self._section.add(line)
            return
        if self._signing is not None and self._trailer:
            self._section.verify(self._signing, self._previous)
        self._state = _DONE
