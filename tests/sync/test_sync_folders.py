"""Sync folders with a real daemon (write-back, SSE-C), a real moto remote behind a recording
relay, and exporters writing real files: temp-name-then-rename, write-in-place-then-quiet, and
a marker. What reaches the remote is read from the relay's record of every request."""

from __future__ import annotations

import os
import time
from pathlib import Path

from s3d.settings import SyncFolder
from tests.support import CountingRelay, DaemonThread
from tests.sync.support import (
    folder_status,
    puts_of,
    remote_body,
    sync_settings,
    uploads_carry_sse_c,
    wait_until,
)


def test_temp_name_then_rename_is_uploaded_whole_and_deleted(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    entry = SyncFolder(str(folder), bucket, key="dgraph/{path}", after="delete", quiet="30")
    with DaemonThread(sync_settings(relay.url, tmp_path, entry)) as daemon:
        data = os.urandom(3 << 20)
        temp = folder / "g01.rdf.gz.tmp"
        with open(temp, "wb") as file:
            for offset in range(0, len(data), 1 << 18):
                file.write(data[offset : offset + (1 << 18)])
                file.flush()
                time.sleep(0.01)
        os.rename(temp, folder / "g01.rdf.gz")
        # Renamed in: complete at once, long before the 30 s quiet period.
        wait_until(lambda: not (folder / "g01.rdf.gz").exists(), 20, "local file removed")
        assert remote_body(remote, bucket, "dgraph/g01.rdf.gz") == data
        assert puts_of(relay, bucket, "dgraph/g01.rdf.gz") == [data]  # nothing partial, ever
        assert puts_of(relay, bucket, "dgraph/g01.rdf.gz.tmp") == []
        assert uploads_carry_sse_c(relay, bucket) == 1
        section = folder_status(daemon.endpoint_url, folder)
        assert section["uploaded"] == 1
        assert section["pending_upload"] == 0
        assert section["failed"] == 0


def test_written_in_place_is_uploaded_once_quiet(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in-place"
    entry = SyncFolder(str(folder), bucket, complete="quiet", quiet="1.0", after="keep")
    with DaemonThread(sync_settings(relay.url, tmp_path, entry)) as daemon:
        chunks = [os.urandom(100_000) for _ in range(8)]
        with open(folder / "dump.sql", "wb") as file:
            for chunk in chunks:
                file.write(chunk)
                file.flush()
                time.sleep(0.3)  # shorter than the quiet period: still being written
                assert puts_of(relay, bucket, "dump.sql") == []
        wait_until(lambda: remote_body(remote, bucket, "dump.sql") is not None, 20)
        assert puts_of(relay, bucket, "dump.sql") == [b"".join(chunks)]
        assert (folder / "dump.sql").exists()  # after = keep
        assert uploads_carry_sse_c(relay, bucket) == 1
        wait_until(lambda: folder_status(daemon.endpoint_url, folder)["uploaded"] == 1, 10)

    # Kept and known uploaded: a restart does not upload it again.
    relay.writes.clear()
    with DaemonThread(sync_settings(relay.url, tmp_path, entry)) as daemon:
        wait_until(lambda: folder_status(daemon.endpoint_url, folder)["files_seen"] == 0, 5)
        time.sleep(1.5)  # past the quiet period
        assert puts_of(relay, bucket, "dump.sql") == []


def test_marker_releases_its_directory(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "hadoop"
    entry = SyncFolder(str(folder), bucket, complete="marker", quiet="0", after="delete")
    with DaemonThread(sync_settings(relay.url, tmp_path, entry)) as daemon:
        (folder / "run1").mkdir(parents=True)
        parts = {f"run1/part-{i:05}": os.urandom(50_000) for i in range(3)}
        for name, data in parts.items():
            (folder / name).write_bytes(data)
        wait_until(lambda: folder_status(daemon.endpoint_url, folder)["files_seen"] == 3, 10)
        time.sleep(0.5)
        assert not [w for w in relay.writes if w[0] == "PUT"]  # no marker yet: nothing goes
        (folder / "run1" / "_SUCCESS").write_bytes(b"")
        wait_until(lambda: not (folder / "run1" / "_SUCCESS").exists(), 20, "marker removed")
        for name, data in parts.items():
            assert remote_body(remote, bucket, name) == data
            assert not (folder / name).exists()
        assert remote_body(remote, bucket, "run1/_SUCCESS") is None  # markers are not uploaded


def test_sibling_marker_releases_only_its_sibling(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "siblings"
    entry = SyncFolder(str(folder), bucket, complete="marker", after="keep")
    with DaemonThread(sync_settings(relay.url, tmp_path, entry)) as daemon:
        folder.joinpath("a.csv").write_bytes(b"a" * 1000)
        folder.joinpath("b.csv").write_bytes(b"b" * 1000)
        folder.joinpath("a.csv.done").write_bytes(b"")
        wait_until(lambda: remote_body(remote, bucket, "a.csv") is not None, 20)
        wait_until(lambda: folder_status(daemon.endpoint_url, folder)["uploaded"] == 1, 10)
        assert remote_body(remote, bucket, "b.csv") is None
        assert folder_status(daemon.endpoint_url, folder)["waiting_for_completion"] == 1


def test_local_file_is_deleted_only_once_the_remote_has_it(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "held"
    entry = SyncFolder(str(folder), bucket, after="delete")
    with DaemonThread(sync_settings(relay.url, tmp_path, entry)) as daemon:
        relay.hold_writes(True)
        data = os.urandom(200_000)
        (folder / ".export.partial").write_bytes(data)
        os.rename(folder / ".export.partial", folder / "export.bin")
        wait_until(lambda: folder_status(daemon.endpoint_url, folder)["pending_upload"] == 1, 10)
        time.sleep(1.0)  # acknowledged by the journal, not uploaded: the file stays
        assert (folder / "export.bin").read_bytes() == data
        assert remote_body(remote, bucket, "export.bin") is None
        relay.hold_writes(False)
        wait_until(lambda: not (folder / "export.bin").exists(), 20, "local file removed")
        assert remote_body(remote, bucket, "export.bin") == data


def test_a_multipart_sized_export_goes_as_parts_with_sse_c(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    from dataclasses import replace

    folder = tmp_path / "big"
    entry = SyncFolder(str(folder), bucket, after="move", done_dir=str(tmp_path / "done"))
    settings = sync_settings(relay.url, tmp_path, entry)
    five = 5 * 1024 * 1024
    journal = replace(settings.journal, multipart_threshold=five, part_size=five)
    with DaemonThread(replace(settings, journal=journal)):
        data = os.urandom(12 * 1024 * 1024)
        (folder / "big.tmp").write_bytes(data)
        os.rename(folder / "big.tmp", folder / "big.bin")
        wait_until(lambda: (tmp_path / "done" / "big.bin").exists(), 60, "moved to done_dir")
        assert not (folder / "big.bin").exists()
        assert (tmp_path / "done" / "big.bin").read_bytes() == data
        assert remote_body(remote, bucket, "big.bin") == data
        assert uploads_carry_sse_c(relay, bucket) == 4  # CreateMultipartUpload and 3 parts
