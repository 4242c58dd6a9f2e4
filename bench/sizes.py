"""Byte counts on the command line and in reports: ``256MiB`` in, ``256 MiB`` out."""

from __future__ import annotations

import argparse
import re

_UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def parse_size(text: str) -> int:
    """``256MiB``, ``4KiB``, ``1048576``: a positive byte count (argparse type)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not match or match[2].lower() not in _UNITS or int(match[1]) <= 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 256MiB, 4KiB, 4096)")
    return int(match[1]) * _UNITS[match[2].lower()]


def positive(text: str) -> int:
    """A positive integer (argparse type)."""
    if not text.strip().isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text!r}")
    return int(text)


def size_text(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"
