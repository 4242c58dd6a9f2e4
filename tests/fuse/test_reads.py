"""Reading through a mount with ordinary tools: ls, cat, find, du, dd at offsets, Python
seeks; directories implied by '/', keys that cannot be file names hidden; random reads
fetch only their blocks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from s3d.settings import CacheSettings
from tests.fuse.conftest import Mounted
from tests.support import CountingRelay

KiB = 1024


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pattern(size: int) -> bytes:
    """Bytes whose every 4 KiB differs, so a read at the wrong offset cannot pass."""
    return b"".join(i.to_bytes(4, "big") * 1024 for i in range(size // 4096 + 1))[:size]


def test_an_object_put_over_s3_is_a_file_in_the_mount(fs: Mounted) -> None:
    fs.s3.put_object(Bucket=fs.bucket, Key="hello.txt", Body=b"hello, world\n")
    assert run("cat", str(fs.point / "hello.txt")) == "hello, world\n"
    info = os.stat(fs.point / "hello.txt")
    assert info.st_size == 13
    assert info.st_mode & 0o777 == 0o644
    listing = run("ls", "-la", str(fs.point))
    assert "hello.txt" in listing
    assert " 13 " in listing


def test_directories_are_implied_by_slashes(fs: Mounted) -> None:
    for key in ("a/b/c.txt", "a/d.txt", "e.txt", "a/b/deeper/f.bin"):
        fs.s3.put_object(Bucket=fs.bucket, Key=key, Body=key.encode())
    found = sorted(run("find", str(fs.point)).split())
    root = str(fs.point)
    assert found == sorted(
        [root]
        + [f"{root}/{p}" for p in ("a", "a/b", "a/b/c.txt", "a/b/deeper", "a/b/deeper/f.bin")]
        + [f"{root}/{p}" for p in ("a/d.txt", "e.txt")]
    )
    assert (fs.point / "a" / "b").is_dir()
    assert not (fs.point / "a" / "d.txt").is_dir()
    assert (fs.point / "a" / "b" / "deeper" / "f.bin").read_bytes() == b"a/b/deeper/f.bin"
    total = int(run("du", "-s", "--apparent-size", "-b", str(fs.point)).split()[0])
    assert total >= sum(len(k) for k in ("a/b/c.txt", "a/d.txt", "e.txt", "a/b/deeper/f.bin"))


def test_a_mount_of_a_prefix_shows_only_what_is_under_it(  # type: ignore[no-untyped-def]
    make_mount, remote, bucket_name: str
) -> None:
    remote.put_object(Bucket=bucket_name, Key="team/x.txt", Body=b"x")
    remote.put_object(Bucket=bucket_name, Key="team/sub/y.txt", Body=b"y")
    remote.put_object(Bucket=bucket_name, Key="other/z.txt", Body=b"z")
    remote.put_object(Bucket=bucket_name, Key="teammate.txt", Body=b"t")
    fs = make_mount(source=f"{bucket_name}/team")
    assert sorted(os.listdir(fs.point)) == ["sub", "x.txt"]
    assert (fs.point / "sub" / "y.txt").read_bytes() == b"y"
    (fs.point / "new.txt").write_bytes(b"n")
    assert fs.s3.get_object(Bucket=bucket_name, Key="team/new.txt")["Body"].read() == b"n"


def test_keys_that_cannot_be_file_names_are_hidden_and_counted(fs: Mounted) -> None:
    keys = ["ok.txt", "a//b", "./dot", "../up", "x" * 256, "dir/"]
    for key in keys:
        fs.s3.put_object(Bucket=fs.bucket, Key=key, Body=b"z")
    # "a//b": "a" is a directory whose only entry has an empty name.
    assert sorted(os.listdir(fs.point)) == ["a", "dir", "ok.txt"]
    assert os.listdir(fs.point / "dir") == []
    assert os.listdir(fs.point / "a") == []
    assert fs.status()["hidden_keys"] >= 4


def test_dd_and_python_seeks_read_at_offsets(fs: Mounted, tmp_path: Path) -> None:
    data = pattern(3 * 1024 * KiB + 123)
    fs.s3.put_object(Bucket=fs.bucket, Key="big.bin", Body=data)
    out = tmp_path / "piece"
    run("dd", f"if={fs.point / 'big.bin'}", f"of={out}", "bs=4096", "skip=300", "count=5")
    assert out.read_bytes() == data[300 * 4096 : 305 * 4096]
    with open(fs.point / "big.bin", "rb") as file:
        file.seek(1_000_003)
        assert file.read(10_000) == data[1_000_003:1_010_003]
        file.seek(-100, os.SEEK_END)
        assert file.read() == data[-100:]
        file.seek(5)
        assert file.read(7) == data[5:12]
    assert (fs.point / "big.bin").read_bytes() == data


def test_a_random_read_fetches_only_its_block(make_mount, remote_url: str) -> None:  # type: ignore[no-untyped-def]
    with CountingRelay(remote_url) as relay:
        cache = CacheSettings(block_size=64 * KiB, whole_object_max=64 * KiB, memory_size=0)
        fs = make_mount(remote=relay.url, cache=cache)
        data = pattern(4 * 1024 * KiB)
        fs.s3.put_object(Bucket=fs.bucket, Key="data.bin", Body=data)
        fs.flush()
        relay.requests.clear()
        with open(fs.point / "data.bin", "rb", buffering=0) as file:
            file.seek(2 * 1024 * KiB + 100)
            assert file.read(4 * KiB) == data[2 * 1024 * KiB + 100 : 2 * 1024 * KiB + 100 + 4 * KiB]
        gets = [(path, rng) for method, path, rng in relay.requests if method == "GET"]
        ranged = [rng for path, rng in gets if "data.bin" in path]
        assert ranged, relay.requests
        # Only the blocks around the read (the kernel may read ahead a little), never the
        # 4 MiB object: each GET is one 64 KiB block at most.
        for rng in ranged:
            assert rng is not None
            assert rng.startswith("bytes=")
            first, last = (int(x) for x in rng[6:].split("-"))
            assert last - first + 1 <= 64 * KiB
            assert 2 * 1024 * KiB - 64 * KiB <= first <= 3 * 1024 * KiB
        assert len(ranged) <= 4


def test_owner_and_modes_come_from_the_settings(make_mount) -> None:  # type: ignore[no-untyped-def]
    fs = make_mount(uid=1234, gid=4321, file_mode=0o600, dir_mode=0o700)
    fs.s3.put_object(Bucket=fs.bucket, Key="d/f.txt", Body=b"f")
    info = os.stat(fs.point / "d" / "f.txt")
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (1234, 4321, 0o600)
    assert os.stat(fs.point / "d").st_mode & 0o777 == 0o700
