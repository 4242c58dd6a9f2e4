"""The measurements of the FUSE benchmark, each a blocking file operation timed in a worker
thread (or a child process): what an application on the mount does."""

from __future__ import annotations

import os
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    value: float
    unit: str
    note: str = ""


def cat(path: Path) -> float:
    """Seconds ``cat`` takes to read ``path`` to /dev/null."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(["cat", str(path)], stdout=sink, check=True)
    return time.perf_counter() - start


def drop_pages(path: Path) -> None:
    """Ask the kernel to forget the pages it cached of ``path``, so the next read goes to
    s3d (through FUSE) rather than to the kernel's page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def random_reads(path: Path, size: int, count: int, block: int, seed: int) -> float:
    """Seconds for ``count`` reads of ``block`` bytes at random aligned offsets."""
    rng = random.Random(seed)
    offsets = [rng.randrange(0, max(1, size - block)) // block * block for _ in range(count)]
    fd = os.open(path, os.O_RDONLY)
    try:
        start = time.perf_counter()
        for offset in offsets:
            if len(os.pread(fd, block, offset)) != min(block, size - offset):
                raise RuntimeError(f"short read at {offset} of {path}")
        return time.perf_counter() - start
    finally:
        os.close(fd)


def list_dir(path: Path, expected: int) -> float:
    start = time.perf_counter()
    found = len(os.listdir(path))
    seconds = time.perf_counter() - start
    if found != expected:
        raise RuntimeError(f"listed {found} names in {path}, expected {expected}")
    return seconds


def write_file(path: Path, size: int) -> float:
    """Seconds ``dd`` takes to write ``size`` bytes (1 MiB writes) and fsync them."""
    start = time.perf_counter()
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={size // MiB}", "conv=fsync"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def random_file(path: Path, size: int) -> None:
    """``size`` random bytes (a whole number of MiB) at ``path``."""
    with open(path, "wb") as out:
        for _ in range(size // MiB):
            out.write(os.urandom(MiB))


def largest_file(root: Path) -> Path:
    """The biggest file under ``root``: the cached copy of the large object."""
    files = [p for p in root.rglob("*") if p.is_file()]
    return max(files, key=lambda p: p.stat().st_size)


def wait_mounted(point: Path, seconds: float = 60.0) -> None:
    """Return once ``point`` is a mount point; TimeoutError past ``seconds``."""
    deadline = time.monotonic() + seconds
    while not os.path.ismount(point):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{point} was not mounted within {seconds:g} s")
        time.sleep(0.2)


def rate(size: int, seconds: float) -> float:
    return size / MiB / seconds if seconds > 0 else 0.0
