"""The AWS CLI against s3d: high-level `aws s3` commands and `aws s3api` operations."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ACCESS_KEY, SECRET_KEY

AWS = str(Path(sys.executable).with_name("aws"))


def aws(endpoint: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = subprocess.run(
        [AWS, "--endpoint-url", endpoint, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def api(endpoint: str, *args: str) -> dict:
    out = aws(endpoint, "s3api", *args, "--output", "json").stdout
    return json.loads(out) if out.strip() else {}


def test_cp_ls_rm(s3d, remote, bucket, tmp_path: Path) -> None:
    src = tmp_path / "hello wörld.txt"
    src.write_bytes(b"hello from the aws cli\n")
    aws(s3d.endpoint_url, "s3", "cp", str(src), f"s3://{bucket}/dir/hello wörld.txt")
    listing = aws(s3d.endpoint_url, "s3", "ls", f"s3://{bucket}/dir/").stdout
    assert "hello wörld.txt" in listing
    back = tmp_path / "back.txt"
    aws(s3d.endpoint_url, "s3", "cp", f"s3://{bucket}/dir/hello wörld.txt", str(back))
    assert back.read_bytes() == src.read_bytes()
    assert (
        remote.get_object(Bucket=bucket, Key="dir/hello wörld.txt")["Body"].read()
        == src.read_bytes()
    )
    aws(s3d.endpoint_url, "s3", "rm", f"s3://{bucket}/dir/hello wörld.txt")
    assert "Contents" not in remote.list_objects_v2(Bucket=bucket)


def test_multipart_cp_50_mib(s3d, remote, bucket, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(50 * 1024 * 1024))
    aws(s3d.endpoint_url, "s3", "cp", str(src), f"s3://{bucket}/big.bin")
    head = remote.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == 50 * 1024 * 1024
    assert head["ETag"].strip('"').endswith("-7")  # 8 MiB parts: the CLI's layout kept
    down = tmp_path / "down.bin"
    aws(s3d.endpoint_url, "s3", "cp", f"s3://{bucket}/big.bin", str(down))
    assert hashlib.sha256(down.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()


def test_s3api_operations(s3d, remote, bucket, tmp_path: Path) -> None:
    ep = s3d.endpoint_url
    body = tmp_path / "b"
    body.write_bytes(b"s3api body")
    put = api(
        ep,
        "put-object",
        "--bucket",
        bucket,
        "--key",
        "k",
        "--body",
        str(body),
        "--metadata",
        "a=1",
        "--content-type",
        "text/x-s3api",
        "--tagging",
        "t=v",
    )
    assert put["ETag"] == f'"{hashlib.md5(b"s3api body").hexdigest()}"'
    head = api(ep, "head-object", "--bucket", bucket, "--key", "k")
    assert head["Metadata"] == {"a": "1"}
    assert head["ContentType"] == "text/x-s3api"
    assert api(ep, "get-object-tagging", "--bucket", bucket, "--key", "k")["TagSet"] == [
        {"Key": "t", "Value": "v"}
    ]
    api(ep, "copy-object", "--bucket", bucket, "--key", "k2", "--copy-source", f"{bucket}/k")
    listed = api(ep, "list-objects-v2", "--bucket", bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["k", "k2"]
    v1 = api(ep, "list-objects", "--bucket", bucket, "--prefix", "k2")
    assert [o["Key"] for o in v1["Contents"]] == ["k2"]
    up = api(ep, "create-multipart-upload", "--bucket", bucket, "--key", "mp")
    part = api(
        ep,
        "upload-part",
        "--bucket",
        bucket,
        "--key",
        "mp",
        "--part-number",
        "1",
        "--upload-id",
        up["UploadId"],
        "--body",
        str(body),
    )
    parts = api(ep, "list-parts", "--bucket", bucket, "--key", "mp", "--upload-id", up["UploadId"])
    assert parts["Parts"][0]["ETag"] == part["ETag"]
    layout = json.dumps({"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    done = api(
        ep,
        "complete-multipart-upload",
        "--bucket",
        bucket,
        "--key",
        "mp",
        "--upload-id",
        up["UploadId"],
        "--multipart-upload",
        layout,
    )
    assert done["ETag"].endswith('-1"')
    deleted = api(
        ep,
        "delete-objects",
        "--bucket",
        bucket,
        "--delete",
        json.dumps({"Objects": [{"Key": "k"}, {"Key": "k2"}]}),
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["k", "k2"]
    assert api(ep, "get-bucket-location", "--bucket", bucket)["LocationConstraint"] is None
    api(
        ep,
        "put-bucket-versioning",
        "--bucket",
        bucket,
        "--versioning-configuration",
        "Status=Enabled",
    )
    assert remote.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def _make_tree(root: Path, count: int) -> dict[str, bytes]:
    rng = random.Random(2026)
    names = ["données", "日本", "ключ", "plain", "with space", "a+b", "x%y", "ü"]
    sizes = [0, 1, 100, 4096, 65_537, 1_000_000, 5 * 1024 * 1024, 9 * 1024 * 1024, 20 * 1024 * 1024]
    weights = [10, 10, 40, 40, 40, 30, 12, 3, 2]
    tree: dict[str, bytes] = {}
    for i in range(count):
        suffix = rng.choice(["txt", "bin", "json", "png"])
        rel = f"{rng.choice(names)}/{i:03d} {rng.choice(names)}.{suffix}"
        size = rng.choices(sizes, weights)[0]
        data = rng.randbytes(size)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        # Files older than the upload, as a directory being synced usually is: `aws s3 sync`
        # compares local mtimes with the whole-second LastModified of the copies.
        os.utime(path, (1_700_000_000, 1_700_000_000))
        tree[rel] = data
    return tree


@pytest.mark.slow
def test_sync_200_mixed_files_round_trip(s3d, remote, bucket, tmp_path: Path) -> None:
    tree = _make_tree(tmp_path / "up", 200)
    assert max(len(v) for v in tree.values()) == 20 * 1024 * 1024
    aws(s3d.endpoint_url, "s3", "sync", str(tmp_path / "up"), f"s3://{bucket}/tree")
    aws(s3d.endpoint_url, "s3", "sync", f"s3://{bucket}/tree", str(tmp_path / "down"))
    for rel, data in tree.items():
        assert (tmp_path / "down" / rel).read_bytes() == data, rel
    import mimetypes

    from tests.support import client

    through = client(s3d.endpoint_url)
    for rel, data in tree.items():
        key = f"tree/{rel}"
        direct = remote.head_object(Bucket=bucket, Key=key)
        proxied = through.head_object(Bucket=bucket, Key=key)
        expected_type = mimetypes.guess_type(rel)[0] or "binary/octet-stream"
        for head in (direct, proxied):
            assert head["ContentLength"] == len(data)
            assert head["ContentType"] == expected_type
        assert proxied["ETag"] == direct["ETag"]
        if len(data) < 8 * 1024 * 1024:
            assert direct["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        assert remote.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    again = aws(s3d.endpoint_url, "s3", "sync", str(tmp_path / "up"), f"s3://{bucket}/tree")
    assert again.stdout.strip() == ""  # nothing to do: sizes and times match
