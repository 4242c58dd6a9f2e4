"""Numbers in rules: byte sizes (``[hdr:content-length>=64KiB]``) and durations
(``cache=10m``). The size units are the configuration's (``docs/configuration.md``),
case-insensitive: ``K M G T`` and ``KiB MiB GiB TiB`` are powers of 1024, ``KB MB GB TB``
powers of 1000, ``B`` or none bytes; a fraction needs a unit and is rounded down. Durations
take ``ms``, ``s`` (the default), ``m``, ``h`` or ``d``."""

from __future__ import annotations

import re
from fractions import Fraction

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)", re.IGNORECASE)
_DURATION = re.compile(r"(\d+(?:\.\d+)?(?:e[-+]?\d+)?)(ms|s|m|h|d)?")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_size(text: str) -> int | None:
    """Bytes, or None when ``text`` is no size."""
    found = _SIZE.fullmatch(text)
    if found is None:
        return None
    number, prefix, suffix = Fraction(found[1]), found[2].lower(), found[3].lower()
    if not prefix:
        if suffix not in ("", "b") or number.denominator != 1:
            return None
        return int(number)
    power = "kmgt".index(prefix) + 1
    base = 1000 if suffix == "b" else 1024
    return int(number * base**power)


def parse_duration(text: str) -> float | None:
    """Seconds, or None when ``text`` is no duration."""
    found = _DURATION.fullmatch(text)
    if found is None:
        return None
    return float(found[1]) * _SECONDS[found[2] or "s"]


def render_duration(seconds: float) -> str:
    """The shortest exact text ``parse_duration`` reads back as ``seconds``."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{seconds!r}s"
