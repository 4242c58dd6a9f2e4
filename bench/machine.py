"""A description of the machine and software a run measured, for the report beside its numbers."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path


def describe(work_dir: Path, rclone: str | None, curl: str | None) -> dict[str, object]:
    """CPU, cores, memory, the work directory's filesystem, load, and software versions."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_mem_total_kib() / (1 << 20), 1),
        "filesystem": _filesystem(work_dir),
        "kernel": f"{platform.system()} {platform.release()}",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "s3d": f"{_version('s3d')} ({_git_revision()})",
        "aiohttp": _version("aiohttp"),
        "moto": _version("moto"),
        "botocore": _version("botocore"),
        "rclone": rclone or "not available",
        "curl": _curl_version(curl) if curl else "not installed",
    }


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "model name":
            return value.strip()
    return platform.processor() or platform.machine()


def _mem_total_kib() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def _filesystem(path: Path) -> str:
    """``ext4 on /dev/vda (/), 78 GiB free``: the mount holding ``path``."""
    path = path.resolve()
    best = ("", "?", "?")
    for line in _read("/proc/mounts").splitlines():
        device, mount, fstype, *_ = line.split()
        if path.is_relative_to(mount) and len(mount) >= len(best[0]):
            best = (mount, device, fstype)
    free = shutil.disk_usage(path).free / (1 << 30)
    mount, device, fstype = best
    return f"{fstype} on {device} ({mount or '?'}), {free:.0f} GiB free"


def _git_revision() -> str:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return done.stdout.strip()


def _curl_version(curl: str) -> str:
    """``7.88.1``, from the first line of ``curl --version``."""
    try:
        out = subprocess.run(
            [curl, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    words = out.split()
    return words[1] if len(words) > 1 else "unknown"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
