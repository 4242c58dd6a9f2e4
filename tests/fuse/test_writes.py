"""Writing through a mount: new files and overwrites become one PUT at close (through the
journal), appends and random writes on a copy of the object, unlink, mkdir/rmdir, rename as
copy then delete, tar in and out; refused operations get a clear errno."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.fuse.conftest import Mounted
from tests.support import CountingRelay


def body(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def keys(s3: Any, bucket: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(entry["Key"] for entry in listed)


def test_cp_into_the_mount_is_visible_over_s3_at_once_and_at_the_remote_after_flush(
    make_mount: Any, remote_url: str, remote: Any, tmp_path: Path
) -> None:
    with CountingRelay(remote_url) as relay:
        fs = make_mount(remote=relay.url)
        relay.hold_writes(True)  # the upload waits: the file is a pending change
        source = tmp_path / "local.bin"
        source.write_bytes(os.urandom(300_000))
        subprocess.run(["cp", str(source), str(fs.point / "copied.bin")], check=True)
        assert body(fs.s3, fs.bucket, "copied.bin") == source.read_bytes()
        assert "copied.bin" not in keys(remote, fs.bucket)
        assert fs.daemon.daemon.journal.status()["queue"] == 1  # type: ignore[union-attr]
        relay.hold_writes(False)
        fs.flush()
        assert body(remote, fs.bucket, "copied.bin") == source.read_bytes()
        puts = [w for w in relay.writes if w[0] == "PUT" and "copied.bin" in w[1]]
        assert len(puts) == 1  # one PUT for the whole file, however many write() calls


def test_overwrite_append_and_random_writes(fs: Mounted) -> None:
    fs.s3.put_object(Bucket=fs.bucket, Key="f.txt", Body=b"0123456789")
    path = fs.point / "f.txt"
    with open(path, "ab") as file:
        file.write(b"abc")
    assert body(fs.s3, fs.bucket, "f.txt") == b"0123456789abc"
    with open(path, "r+b") as file:
        file.seek(3)
        file.write(b"XY")
        file.seek(0)
        assert file.read(5) == b"012XY"
    assert body(fs.s3, fs.bucket, "f.txt") == b"012XY56789abc"
    with open(path, "wb") as file:  # O_TRUNC
        file.write(b"new")
    assert body(fs.s3, fs.bucket, "f.txt") == b"new"
    os.truncate(path, 2)
    assert body(fs.s3, fs.bucket, "f.txt") == b"ne"
    assert path.stat().st_size == 2


def test_a_file_being_written_is_listed_and_sized(fs: Mounted) -> None:
    with open(fs.point / "growing.log", "wb") as file:
        file.write(b"x" * 5000)
        file.flush()
        assert "growing.log" in os.listdir(fs.point)
        assert os.fstat(file.fileno()).st_size == 5000
    assert body(fs.s3, fs.bucket, "growing.log") == b"x" * 5000


def test_fsync_makes_a_pending_change_before_close(fs: Mounted) -> None:
    with open(fs.point / "synced.txt", "wb") as file:
        file.write(b"durable")
        file.flush()
        os.fsync(file.fileno())
        assert body(fs.s3, fs.bucket, "synced.txt") == b"durable"
        file.write(b" and more")
    assert body(fs.s3, fs.bucket, "synced.txt") == b"durable and more"


def test_unlink_mkdir_rmdir(fs: Mounted) -> None:
    fs.s3.put_object(Bucket=fs.bucket, Key="gone.txt", Body=b"g")
    os.unlink(fs.point / "gone.txt")
    assert "gone.txt" not in keys(fs.s3, fs.bucket)
    assert not (fs.point / "gone.txt").exists()
    os.mkdir(fs.point / "empty")
    assert (fs.point / "empty").is_dir()
    assert "empty" in os.listdir(fs.point)
    os.rmdir(fs.point / "empty")
    assert "empty" not in os.listdir(fs.point)
    os.makedirs(fs.point / "x" / "y")
    (fs.point / "x" / "y" / "z.txt").write_bytes(b"z")
    assert keys(fs.s3, fs.bucket) == ["x/y/z.txt"]
    assert errno_of(lambda: os.rmdir(fs.point / "x")) == errno.ENOTEMPTY


def test_rename_is_a_copy_then_a_delete(fs: Mounted) -> None:
    fs.s3.put_object(Bucket=fs.bucket, Key="old.txt", Body=b"moved")
    os.mkdir(fs.point / "dir")
    os.rename(fs.point / "old.txt", fs.point / "dir" / "new.txt")
    assert keys(fs.s3, fs.bucket) == ["dir/new.txt"]
    assert (fs.point / "dir" / "new.txt").read_bytes() == b"moved"
    assert not (fs.point / "old.txt").exists()


def test_tar_a_tree_in_and_out(fs: Mounted, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for rel in ("a/one.txt", "a/b/two.bin", "c.txt"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(os.urandom(1000) + rel.encode())
    archive = tmp_path / "in.tar"
    subprocess.run(["tar", "-cf", str(archive), "-C", str(tree), "."], check=True)
    # Owners and modes cannot be kept in S3 (chown/chmod get EPERM): tar is told so.
    untar = ["tar", "-xf", str(archive), "-C", str(fs.point), "--no-same-owner"]
    subprocess.run([*untar, "--no-same-permissions", "-m"], check=True)
    assert keys(fs.s3, fs.bucket) == ["a/b/two.bin", "a/one.txt", "c.txt"]
    out = tmp_path / "out"
    out.mkdir()
    packed = subprocess.run(["tar", "-cf", "-", "-C", str(fs.point), "."], capture_output=True)
    assert packed.returncode == 0
    subprocess.run(["tar", "-xf", "-", "-C", str(out)], input=packed.stdout, check=True)
    for rel in ("a/one.txt", "a/b/two.bin", "c.txt"):
        assert (out / rel).read_bytes() == (tree / rel).read_bytes()


def errno_of(action: Any) -> int | None:
    try:
        action()
    except OSError as exc:
        return exc.errno
    return None


def test_what_s3_cannot_hold_is_refused_with_a_clear_errno(fs: Mounted) -> None:
    fs.s3.put_object(Bucket=fs.bucket, Key="f.txt", Body=b"f")
    fs.s3.put_object(Bucket=fs.bucket, Key="d/g.txt", Body=b"g")
    point = fs.point
    assert errno_of(lambda: os.symlink("f.txt", point / "link")) == errno.EPERM
    assert errno_of(lambda: os.link(point / "f.txt", point / "hard")) == errno.EPERM
    assert errno_of(lambda: os.chmod(point / "f.txt", 0o600)) == errno.EPERM
    assert errno_of(lambda: os.chown(point / "f.txt", 1234, 1234)) == errno.EPERM
    assert errno_of(lambda: os.rename(point / "d", point / "e")) == errno.ENOTSUP
    assert errno_of(lambda: os.mkfifo(point / "fifo")) == errno.EPERM
    assert errno_of(lambda: os.setxattr(point / "f.txt", "user.k", b"v")) == errno.ENOTSUP
    os.utime(point / "f.txt", (0, 0))  # accepted (tar, cp -p), not kept
    assert keys(fs.s3, fs.bucket) == ["d/g.txt", "f.txt"]


def test_a_read_only_mount_refuses_changes_with_erofs(make_mount: Any) -> None:
    fs = make_mount(read_only=True)
    fs.s3.put_object(Bucket=fs.bucket, Key="f.txt", Body=b"f")
    point = fs.point
    assert (point / "f.txt").read_bytes() == b"f"
    assert errno_of(lambda: (point / "new.txt").write_bytes(b"n")) == errno.EROFS
    assert errno_of(lambda: open(point / "f.txt", "ab").close()) == errno.EROFS
    assert errno_of(lambda: os.unlink(point / "f.txt")) == errno.EROFS
    assert errno_of(lambda: os.mkdir(point / "d")) == errno.EROFS
    assert keys(fs.s3, fs.bucket) == ["f.txt"]


def test_listings_show_pending_puts_and_hide_pending_deletes(
    make_mount: Any, remote_url: str, remote: Any
) -> None:
    with CountingRelay(remote_url) as relay:
        fs = make_mount(remote=relay.url)
        fs.s3.put_object(Bucket=fs.bucket, Key="kept.txt", Body=b"k")
        fs.s3.put_object(Bucket=fs.bucket, Key="doomed.txt", Body=b"d")
        fs.flush()
        relay.hold_writes(True)
        fs.s3.put_object(Bucket=fs.bucket, Key="pending.txt", Body=b"p")
        fs.s3.delete_object(Bucket=fs.bucket, Key="doomed.txt")
        assert sorted(os.listdir(fs.point)) == ["kept.txt", "pending.txt"]
        assert keys(remote, fs.bucket) == ["doomed.txt", "kept.txt"]  # nothing uploaded yet
        assert (fs.point / "pending.txt").read_bytes() == b"p"
        relay.hold_writes(False)


def test_a_file_unlinked_while_open_for_writing_is_not_uploaded_at_close(fs: Mounted) -> None:
    with open(fs.point / "temp.bin", "wb") as file:
        file.write(b"scratch")
        os.unlink(fs.point / "temp.bin")
        file.write(b" more")
    assert keys(fs.s3, fs.bucket) == []
    assert not (fs.point / "temp.bin").exists()


def test_the_etag_is_the_md5_of_the_bytes_however_they_were_written(fs: Mounted) -> None:
    sequential = os.urandom(700_000)
    (fs.point / "seq.bin").write_bytes(sequential)
    with open(fs.point / "seq.bin", "r+b") as file:  # then a write back in the middle
        file.seek(1000)
        file.write(b"patched")
    patched = sequential[:1000] + b"patched" + sequential[1007:]
    (fs.point / "again.bin").write_bytes(sequential)
    for key, data in (("again.bin", sequential), ("seq.bin", patched)):
        head = fs.s3.head_object(Bucket=fs.bucket, Key=key)
        assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        assert body(fs.s3, fs.bucket, key) == data
