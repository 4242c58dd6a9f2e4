"""Sync folder filters in the rules language, and polled folders, with a real daemon, a real
moto remote behind a recording relay, and real files."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from s3d.settings import RulesSettings, SyncFolder, SyncSettings
from s3d.sync.watch import Unavailable, Watcher
from tests.support import CountingRelay, DaemonThread
from tests.sync.support import folder_status, puts_of, remote_body, sync_settings, wait_until

WAIT = 60.0
"""Seconds a step may take: bounded, and generous (the machine is shared and often loaded)."""

FILTER = """
# logs never go; what is left goes from 1 KiB up
-  */dgraph/*.log
+  */dgraph/*[hdr:content-length>=1KiB]
-  *
"""


def _drop(folder: Path, name: str, data: bytes) -> None:
    """An exporter's way: a temporary name, then a rename into place."""
    temp = folder / f".{name}.tmp"
    temp.write_bytes(data)
    os.rename(temp, folder / name)


def test_a_folder_filter_decides_by_key_and_size_after_the_globs(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    entry = SyncFolder(
        str(folder), bucket, key="dgraph/{path}", after="delete", include="*.rdf,*.log"
    )
    entry = replace(entry, filter=FILTER)
    with DaemonThread(sync_settings(relay.url, tmp_path, entry)) as daemon:
        files = {
            "big.rdf": os.urandom(2048),
            "small.rdf": b"tiny",
            "big.log": os.urandom(2048),
            "big.csv": os.urandom(2048),  # not among the include globs
        }
        for name, data in files.items():
            _drop(folder, name, data)
        wait_until(lambda: not (folder / "big.rdf").exists(), WAIT, "big.rdf uploaded")
        wait_until(lambda: folder_status(daemon.endpoint_url, folder)["filtered_out"] == 2, WAIT)
        assert remote_body(remote, bucket, "dgraph/big.rdf") == files["big.rdf"]
        for name in ("small.rdf", "big.log", "big.csv"):
            assert (folder / name).read_bytes() == files[name]  # left alone
            assert puts_of(relay, bucket, f"dgraph/{name}") == []
        section = folder_status(daemon.endpoint_url, folder)
        assert (section["uploaded"], section["failed"]) == (1, 0)
        # A filtered file that changes is asked again: now large enough, it goes.
        _drop(folder, "small.rdf", os.urandom(4096))
        wait_until(lambda: not (folder / "small.rdf").exists(), WAIT, "small.rdf uploaded")
        assert folder_status(daemon.endpoint_url, folder)["filtered_out"] == 1
        (folder / "big.log").unlink()  # gone: no longer counted
        wait_until(lambda: folder_status(daemon.endpoint_url, folder)["filtered_out"] == 0, WAIT)


def test_the_rule_files_sync_section_applies_after_the_folders_own(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    rules = tmp_path / "site.rules"
    rules.write_text(f"[sync]\n- {bucket}/*.csv[hdr:content-length>1KiB]\n+ *\n")
    folder = tmp_path / "exports"
    folder.mkdir()
    entry = replace(SyncFolder(str(folder), bucket, after="keep"), filter="+ */keep.csv")
    settings = sync_settings(relay.url, tmp_path, entry)
    settings = replace(settings, rules=RulesSettings(files=(str(rules),)))
    with DaemonThread(settings) as daemon:
        large = os.urandom(4096)
        for name in ("large.csv", "keep.csv", "small.csv"):
            _drop(folder, name, large if name != "small.csv" else b"a,b\n")
        # Files are taken in round by round: the one left out may be judged after the others
        # have gone, so wait for both counts.
        wait_until(
            lambda: (
                (lambda s: (s["uploaded"], s["filtered_out"]))(
                    folder_status(daemon.endpoint_url, folder)
                )
                == (2, 1)
            ),
            WAIT,
        )
        assert remote_body(remote, bucket, "keep.csv") == large  # the folder's rule first
        assert remote_body(remote, bucket, "small.csv") == b"a,b\n"
        assert puts_of(relay, bucket, "large.csv") == []


def test_a_polled_folder_uploads_whole_files_once_quiet(
    relay: CountingRelay, remote, bucket: str, tmp_path: Path
) -> None:
    folder = tmp_path / "polled"
    entry = SyncFolder(str(folder), bucket, complete="quiet", quiet="1.0", after="delete")
    settings = sync_settings(relay.url, tmp_path, entry)
    settings = replace(settings, sync=SyncSettings((entry,), watch="poll", poll_interval=0.2))
    with DaemonThread(settings) as daemon:
        assert folder_status(daemon.endpoint_url, folder)["watching"] == "poll"
        (folder / "sub").mkdir()
        chunks = [os.urandom(50_000) for _ in range(8)]
        with open(folder / "sub" / "dump.sql", "wb") as file:
            for chunk in chunks:
                file.write(chunk)
                file.flush()
                time.sleep(0.3)  # shorter than the quiet period: still being written
                assert puts_of(relay, bucket, "sub/dump.sql") == []
        wait_until(lambda: not (folder / "sub" / "dump.sql").exists(), WAIT, "uploaded, deleted")
        assert remote_body(remote, bucket, "sub/dump.sql") == b"".join(chunks)
        assert puts_of(relay, bucket, "sub/dump.sql") == [b"".join(chunks)]  # nothing partial


def test_auto_falls_back_to_polling_where_inotify_cannot_watch(
    relay: CountingRelay,
    remote,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Reaching the real watch limit would take inotify from every process of the machine's
    # user: the watcher's refusal is what stands in for it here.
    async def refuse(self: Watcher) -> Watcher:
        raise Unavailable("inotify: No space left on device")

    monkeypatch.setattr(Watcher, "__aenter__", refuse)
    folder = tmp_path / "fallback"
    entry = SyncFolder(str(folder), bucket, complete="quiet", quiet="0.5", after="delete")
    settings = sync_settings(relay.url, tmp_path, entry)
    settings = replace(settings, sync=SyncSettings((entry,), poll_interval=0.2))
    with DaemonThread(settings) as daemon:
        assert folder_status(daemon.endpoint_url, folder)["watching"] == "poll"
        (folder / "export.bin").write_bytes(b"x" * 10_000)
        wait_until(lambda: not (folder / "export.bin").exists(), WAIT, "uploaded, deleted")
        assert remote_body(remote, bucket, "export.bin") == b"x" * 10_000
