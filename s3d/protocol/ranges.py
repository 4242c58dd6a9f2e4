"""The Range header of GetObject and the x-amz-copy-source-range of UploadPartCopy.

S3 serves one byte range per request. A Range header it cannot parse (several ranges, a unit
other than ``bytes``, ``b < a``) is ignored and the whole object is answered, as S3 does; a
well-formed range that starts at or beyond the end of the object is ``416 InvalidRange``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from s3d.protocol.errors import InvalidArgument, InvalidRange

# ASCII digits only; the unit compared without case (RFC 9110 section 14.1).
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.ASCII | re.IGNORECASE)


def _number(digits: str) -> int:
    # int() refuses more than 4300 digits; a position that long is past any object anyway.
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 30 else 10**30


def _before(last: str, first: str) -> bool:
    """Whether the decimal ``last`` is smaller than ``first``, exactly, however long."""
    last, first = last.lstrip("0"), first.lstrip("0")
    return (len(last), last) < (len(first), first)


@dataclass(frozen=True, slots=True)
class ByteRange:
    """``first``/``last`` as written: ``bytes=first-last``, ``bytes=first-`` (last None) or
    ``bytes=-suffix`` (first None, last is the suffix length)."""

    first: int | None
    last: int | None

    def resolve(self, size: int) -> tuple[int, int]:
        """The inclusive (start, end) this range selects in an object of ``size`` bytes.

        Raises InvalidRange when it selects nothing.
        """
        if self.first is None:
            assert self.last is not None
            if self.last == 0 or size == 0:
                raise InvalidRange(ActualObjectSize=str(size), RangeRequested=str(self))
            return max(0, size - self.last), size - 1
        if self.first >= size:
            raise InvalidRange(ActualObjectSize=str(size), RangeRequested=str(self))
        end = size - 1 if self.last is None else min(self.last, size - 1)
        return self.first, end

    def __str__(self) -> str:
        first = "" if self.first is None else str(self.first)
        last = "" if self.last is None else str(self.last)
        return f"bytes={first}-{last}"


def parse_range(value: str | None) -> ByteRange | None:
    """The Range header as a ByteRange; None when absent or not a single well-formed range."""
    if value is None:
        return None
    match = _RANGE.match(value)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if first and last and _before(last, first):
        return None
    return ByteRange(_number(first) if first else None, _number(last) if last else None)


def parse_copy_source_range(value: str | None) -> tuple[int, int] | None:
    """x-amz-copy-source-range: only ``bytes=first-last`` is allowed, anything else is
    ``InvalidArgument`` (S3 is strict here, unlike Range)."""
    if value is None:
        return None
    match = _RANGE.match(value)
    if match is None or not match.group(1) or not match.group(2):
        raise InvalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy",
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=value,
        )
    if _before(match.group(2), match.group(1)):
        raise InvalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy",
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=value,
        )
    return _number(match.group(1)), _number(match.group(2))
