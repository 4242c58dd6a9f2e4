"""The kernel's readahead for a mount: how much it asks of s3d at a time.

The kernel reads a FUSE file through its page cache with the readahead of the mount's
backing device (``/sys/class/bdi/<major>:<minor>/read_ahead_kb``), 128 KiB by default, and
FUSE offers no way to ask for more at mount time (libfuse can only lower it). So a sequential
reader costs s3d one request per 128 KiB. Raised after the mount, the kernel sends requests up
to ``max_pages`` (libfuse 3 negotiates 1 MiB) and several at once: a quarter of the requests
for the same bytes. Random readers are not hurt: the kernel's readahead starts from the size
of the read and grows only while reads stay sequential.

Writing the setting needs root (or a writable sysfs); without it the mount keeps the default,
logged once. The device is found in ``/proc/self/mountinfo``, never by a ``stat`` of the
mount point, which would be a FUSE request to ourselves.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("s3d.fuse")

READ_AHEAD_KIB = 8 * 1024
"""The readahead asked for a mount: one cache block (8 MiB), served by one fetch."""

MOUNTINFO = Path("/proc/self/mountinfo")
BDI = Path("/sys/class/bdi")


def device_of(mountpoint: Path, mountinfo: str) -> str | None:
    """The ``major:minor`` of the mount at ``mountpoint`` in a mountinfo text (the last
    mount there wins, as in the kernel's view)."""
    found = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4 and _unescape(fields[4]) == str(mountpoint):
            found = fields[2]
    return found


def _unescape(path: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes.
    for char in (" ", "\t", "\n", "\\"):
        path = path.replace(f"\\{ord(char):03o}", char)
    return path


def raise_readahead(mountpoint: Path, kib: int = READ_AHEAD_KIB) -> int | None:
    """Set the readahead of the mount at ``mountpoint`` to ``kib`` (blocking: call in a
    thread). Returns the readahead in force afterwards, None when it could not be read."""
    try:
        device = device_of(mountpoint, MOUNTINFO.read_text())
    except OSError:
        return None
    if device is None:
        return None
    setting = BDI / device / "read_ahead_kb"
    try:
        setting.write_text(f"{kib}\n")
    except OSError as exc:
        log.info("fuse: readahead of %s left at the kernel's default (%s)", mountpoint, exc)
    try:
        return int(setting.read_text())
    except (OSError, ValueError):
        return None
