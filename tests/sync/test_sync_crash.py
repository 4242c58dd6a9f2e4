"""``kill -9`` of a real ``s3d serve`` while a sync folder takes files in and while their
uploads are held at the remote: nothing is lost, nothing is deleted before the remote has it,
nothing partial ever reaches the remote."""

from __future__ import annotations

import base64
import os
import random
import uuid
from pathlib import Path

from tests.support import (
    ACCESS_KEY,
    REMOTE_KEY,
    REMOTE_SECRET,
    SECRET_KEY,
    CountingRelay,
    DaemonProcess,
    write_config,
)
from tests.sync.support import (
    SSE_KEY,
    folder_status,
    puts_of,
    uploads_carry_sse_c,
    wait_until,
)


def test_kill_9_during_ingest_and_upload_loses_nothing(
    remote_url: str, remote, tmp_path: Path
) -> None:
    bucket = f"crash-{uuid.uuid4().hex[:12]}"
    remote.create_bucket(Bucket=bucket)
    folder = tmp_path / "exports"
    folder.mkdir()
    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(base64.b64encode(SSE_KEY))
    rng = random.Random(14)
    files = {f"f{i:02}.bin": rng.randbytes(rng.randint(1, 3) << 20) for i in range(10)}
    with CountingRelay(remote_url) as relay:
        keys = [{"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}]
        entry = {"directory": str(folder), "bucket": bucket, "after": "delete", "quiet": "0.5"}
        config = write_config(
            tmp_path / "s3d.toml",
            {
                "": {"data_dir": str(tmp_path / "data")},
                "server": {"port": 0, "access_keys": keys},
                "remote": {
                    "endpoint_url": relay.url,
                    "access_key_id": REMOTE_KEY,
                    "secret_access_key": REMOTE_SECRET,
                    "sse_customer_key_file": str(key_file),
                },
                "journal": {"mode": "write-back", "retry_base": 0.2, "retry_max": 1.0},
                "sync": {"folders": [entry], "rescan_interval": 0.0},
            },
        )
        relay.hold_writes(True)  # no upload completes in the first two runs
        with DaemonProcess(["--config", str(config)]) as process:
            for index, (name, data) in enumerate(files.items()):
                (folder / f".{name}.tmp").write_bytes(data)
                os.rename(folder / f".{name}.tmp", folder / name)
                if index == len(files) // 2:
                    process.kill()  # SIGKILL while the first files are being taken in
        assert {p.name for p in folder.iterdir()} == set(files)

        with DaemonProcess(["--config", str(config)]) as process:
            endpoint = process.endpoint_url
            wait_until(lambda: folder_status(endpoint, folder)["pending_upload"] == 10, 60)
            process.kill()  # SIGKILL with every upload under way, held at the remote
        for name, data in files.items():  # nothing deleted early
            assert (folder / name).read_bytes() == data

        relay.hold_writes(False)
        with DaemonProcess(["--config", str(config)]) as process:
            wait_until(lambda: not any(folder.iterdir()), 120, "every file uploaded and deleted")
        for name, data in files.items():
            assert remote.get_object(Bucket=bucket, Key=name)["Body"].read() == data
            bodies = puts_of(relay, bucket, name)
            assert bodies
            assert all(body == data for body in bodies)  # never partial
        assert uploads_carry_sse_c(relay, bucket) >= len(files)
