"""Byte sizes in configuration: ``512``, ``"64KiB"``, ``"1.5GiB"``, ``"500MB"``, ``"2T"``.

The units, case-insensitive, with an optional space before them:

- ``KiB MiB GiB TiB`` (also ``Ki Mi Gi Ti``, as Kubernetes writes them) and bare ``K M G T``
  are powers of 1024, as memory sizes are written for nginx, Java (``-Xmx2g``) and Docker;
- ``KB MB GB TB`` are powers of 1000, as disks are sold;
- ``B`` or none is bytes.

Bare ``K M G T`` are binary here, unlike Kubernetes quantities (where ``M`` is 10^6): the
difference is at most 10%, and the form that is never ambiguous is ``MiB``/``MB``. A fraction
needs a unit (``"1.5GiB"``) and is rounded down to a whole byte. ``format_size`` writes a size
back in the shortest exact form, so a rendered configuration loads back to the same value.
"""

from __future__ import annotations

import re
from fractions import Fraction

FORMS = '512, "64KiB", "1.5GiB", "500MB" or "2T"'
"""Examples of the accepted forms, as error messages and the documentation show them."""
UNITS_NOTE = "K, KiB, M, MiB… are powers of 1024; KB, MB… are powers of 1000"

_BINARY = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_DECIMAL = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_SIZE = re.compile(
    r"(?P<number>-?\d(?:_?\d)*(?:\.\d+)?)\s*(?:(?P<prefix>[kmgt])(?P<rest>i|ib|b)?|b)?",
    re.IGNORECASE,
)
_WRITE_BINARY = [(f"{p.upper()}iB", n) for p, n in reversed(_BINARY.items())]
_WRITE_DECIMAL = [(f"{p.upper()}B", n) for p, n in reversed(_DECIMAL.items())]


def parse_size(text: str) -> int:
    """The number of bytes ``text`` names; ``ValueError`` when it is not a size."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a byte size: {text!r}")
    number = Fraction(match["number"].replace("_", ""))
    prefix = match["prefix"]
    if prefix is None:
        if number.denominator != 1:
            raise ValueError("a fraction of a byte needs a unit")
        return int(number)
    rest = (match["rest"] or "").lower()
    unit = _DECIMAL[prefix.lower()] if rest == "b" else _BINARY[prefix.lower()]
    return int(number * unit)  # int() rounds toward zero: down, for a size


def format_size(size: int) -> str:
    """``size`` in the shortest form ``parse_size`` reads back exactly: ``"10GiB"``,
    ``"1.5GiB"``, ``"500MB"``, ``"1TB"``, or the plain number (``"1000001"``, ``"0"``).

    Of forms equally short, a binary unit wins over a decimal one, and any unit over the plain
    number. A binary unit may carry up to two decimals below 1024 of it (``"1.5GiB"``).
    """
    forms = []
    for suffix, unit in _WRITE_BINARY:
        if abs(size) >= unit and size % unit == 0:
            forms.append(f"{size // unit}{suffix}")
        elif unit <= abs(size) < 1024 * unit and (size * 100) % unit == 0:
            forms.append(f"{size * 100 // unit / 100:g}{suffix}")
    forms += [f"{size // u}{s}" for s, u in _WRITE_DECIMAL if abs(size) >= u and size % u == 0]
    forms.append(str(size))
    return min(forms, key=len)  # the first of the shortest
