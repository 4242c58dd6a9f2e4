"""The read cache against a real moto remote, through a relay that counts what s3d asks it."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3d.settings import CacheSettings
from tests.support import CountingRelay, DaemonThread, client, daemon_settings

KiB = 1024
MiB = 1024 * KiB


def cached_daemon(relay: CountingRelay, data_dir: Path, **cache: object) -> DaemonThread:
    settings = daemon_settings(relay.url, data_dir)
    options = {"freshness": 300.0, "block_size": 1 * MiB, "whole_object_max": 1 * MiB, **cache}
    return DaemonThread(
        dataclasses.replace(settings, cache=CacheSettings(**options))  # type: ignore[arg-type]
    )


def new_bucket(remote) -> str:  # type: ignore[no-untyped-def]
    name = f"c-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=name)
    return name


def get(s3, bucket: str, key: str, **kwargs: object) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    answer = s3.get_object(Bucket=bucket, Key=key, **kwargs)
    return answer["Body"].read(), answer["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"]


def test_miss_then_hit_then_revalidation(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="k", Body=b"version one")
    with cached_daemon(relay, tmp_path, freshness=0.5) as daemon:
        s3 = client(daemon.endpoint_url)
        assert get(s3, bucket, "k") == (b"version one", "miss")
        relay.clear()
        assert get(s3, bucket, "k") == (b"version one", "hit")
        assert relay.requests == []  # a hit asks the remote nothing
        # Changed behind s3d's back: within the freshness window the cached copy is served…
        remote.put_object(Bucket=bucket, Key="k", Body=b"version two!")
        assert get(s3, bucket, "k") == (b"version one", "hit")
        # …after it, a conditional request finds the change and the new bytes replace them.
        time.sleep(0.6)
        assert get(s3, bucket, "k") == (b"version two!", "miss")
        assert get(s3, bucket, "k") == (b"version two!", "hit")
        # Unchanged: revalidated with a conditional HEAD, bytes served locally.
        time.sleep(0.6)
        relay.clear()
        assert get(s3, bucket, "k") == (b"version two!", "revalidated")
        assert [m for m, _, _ in relay.requests] == ["HEAD"]
        # Deleted behind s3d's back: a 404, and the entry is gone.
        remote.delete_object(Bucket=bucket, Key="k")
        time.sleep(0.6)
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key="k")
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert daemon.cache_stats()["entries"] == 0


def test_stale_served_when_remote_is_down(remote_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    relay = CountingRelay(remote_url)
    relay.__enter__()
    remote = client(remote_url, key="k", secret="s")
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="k", Body=b"kept")
    large = os.urandom(3 * MiB)
    remote.put_object(Bucket=bucket, Key="large", Body=large)
    try:
        with cached_daemon(relay, tmp_path, freshness=0.2) as daemon:
            s3 = client(daemon.endpoint_url)
            assert get(s3, bucket, "k") == (b"kept", "miss")
            assert get(s3, bucket, "large", Range="bytes=0-99")[0] == large[:100]
            relay.__exit__()  # the remote is now unreachable
            time.sleep(0.3)
            assert get(s3, bucket, "k") == (b"kept", "stale")
            head = s3.head_object(Bucket=bucket, Key="k")
            assert head["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"] == "stale"
            with pytest.raises(ClientError) as exc:
                s3.get_object(Bucket=bucket, Key="never-cached")
            assert exc.value.response["Error"]["Code"] == "ServiceUnavailable"
            # Part of a large object is here, part is not: the cached part is served stale,
            # the rest is a clean 503 before any byte, not an answer cut halfway.
            assert get(s3, bucket, "large", Range="bytes=10-19") == (large[10:20], "stale")
            with pytest.raises(ClientError) as exc:
                s3.get_object(Bucket=bucket, Key="large", Range=f"bytes={2 * MiB}-{2 * MiB + 9}")
            assert exc.value.response["Error"]["Code"] == "ServiceUnavailable"
    finally:
        relay.__exit__()


def test_ranged_read_of_large_object_fetches_only_its_blocks(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    data = os.urandom(8 * MiB)
    remote.put_object(Bucket=bucket, Key="big", Body=data)
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.clear()
        first = 3 * MiB + 100
        part, state = get(s3, bucket, "big", Range=f"bytes={first}-{first + 999}")
        assert part == data[first : first + 1000]
        assert state == "miss"
        gets = [(p, r) for m, p, r in relay.requests if m == "GET"]
        assert gets == [(f"/{bucket}/big", f"bytes={3 * MiB}-{4 * MiB - 1}")]
        # The same block again: local. Another block: one more ranged GET, for that block.
        relay.clear()
        assert get(s3, bucket, "big", Range=f"bytes={first + 10}-{first + 20}")[1] == "hit"
        assert relay.requests == []
        part, _ = get(s3, bucket, "big", Range=f"bytes={6 * MiB}-{6 * MiB + 9}")
        assert part == data[6 * MiB : 6 * MiB + 10]
        assert [r for m, _, r in relay.requests if m == "GET"] == [f"bytes={6 * MiB}-{7 * MiB - 1}"]
        # The whole object: only the six missing blocks are fetched, as one run each side.
        relay.clear()
        whole, state = get(s3, bucket, "big")
        assert hashlib.sha256(whole).digest() == hashlib.sha256(data).digest()
        assert state == "miss"
        fetched = sorted(r for m, _, r in relay.requests if m == "GET")
        assert fetched == sorted(
            [
                f"bytes=0-{3 * MiB - 1}",
                f"bytes={4 * MiB}-{6 * MiB - 1}",
                f"bytes={7 * MiB}-{8 * MiB - 1}",
            ]
        )
        relay.clear()
        assert get(s3, bucket, "big")[1] == "hit"
        assert relay.requests == []


def test_small_object_cached_whole_on_ranged_miss(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    data = os.urandom(300 * KiB)
    remote.put_object(Bucket=bucket, Key="small", Body=data)
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.clear()
        assert get(s3, bucket, "small", Range="bytes=10-19") == (data[10:20], "miss")
        assert [r for m, _, r in relay.requests if m == "GET"] == [f"bytes=0-{len(data) - 1}"]
        relay.clear()
        assert get(s3, bucket, "small", Range="bytes=-100") == (data[-100:], "hit")
        assert get(s3, bucket, "small") == (data, "hit")
        assert relay.requests == []


def test_concurrent_misses_share_one_remote_get(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    data = os.urandom(3 * MiB)
    remote.put_object(Bucket=bucket, Key="hot", Body=data)
    with cached_daemon(relay, tmp_path) as daemon:
        relay.clear()
        results: list[bytes] = []
        barrier = threading.Barrier(8)

        def read() -> None:
            s3 = client(daemon.endpoint_url)
            barrier.wait()
            results.append(s3.get_object(Bucket=bucket, Key="hot")["Body"].read())

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == 8
        assert all(r == data for r in results)
        # One request in all: a whole read of an unknown key needs no HEAD first.
        assert relay.count("GET", f"/{bucket}/hot") == 1
        assert relay.count("HEAD", f"/{bucket}/hot") == 0


def test_eviction_keeps_disk_within_the_limit(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    for i in range(100):
        remote.put_object(Bucket=bucket, Key=f"o{i:02d}", Body=os.urandom(64 * KiB))
    limit = 3 * MiB
    with cached_daemon(relay, tmp_path, max_size=limit) as daemon:
        s3 = client(daemon.endpoint_url)
        for i in range(100):
            s3.get_object(Bucket=bucket, Key=f"o{i:02d}")["Body"].read()
        time.sleep(0.5)  # eviction runs after the block that crossed the watermark
        stats = daemon.cache_stats()
        # Every file of the cache, its index included, as the disk allocates them.
        files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
        on_disk = sum(p.stat().st_blocks * 512 for p in files)
        assert stats["evictions"] > 0
        assert stats["bytes"] <= limit
        assert on_disk <= limit
        # Least recently used went first: the last objects read are still local.
        relay.clear()
        assert get(s3, bucket, "o99")[1] == "hit"
        assert relay.requests == []


def test_pinned_entries_are_not_evicted(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    for i in range(30):
        remote.put_object(Bucket=bucket, Key=f"p{i:02d}", Body=os.urandom(64 * KiB))
    with cached_daemon(relay, tmp_path, max_size=512 * KiB) as daemon:
        daemon.call(daemon.daemon.cache.pin(bucket, "p00"))
        s3 = client(daemon.endpoint_url)
        for i in range(30):
            s3.get_object(Bucket=bucket, Key=f"p{i:02d}")["Body"].read()
        time.sleep(0.5)
        assert daemon.cache_stats()["evictions"] > 0
        relay.clear()
        assert get(s3, bucket, "p00")[1] == "hit"
        assert get(s3, bucket, "p01")[1] == "miss"


def test_restart_keeps_the_cache(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    blobs = {f"r{i}": os.urandom(200 * KiB + i) for i in range(5)}
    blobs["large"] = os.urandom(3 * MiB + 5)
    for key, data in blobs.items():
        remote.put_object(Bucket=bucket, Key=key, Body=data)
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        for key in blobs:
            assert get(s3, bucket, key)[0] == blobs[key]
    # A file left half-written by a crash, and a file no entry names.
    data_dir = tmp_path / "cache" / "data"
    (data_dir / "zz").mkdir(exist_ok=True)
    (data_dir / "zz" / "orphan").write_bytes(b"x" * 100)
    (data_dir / "zz" / "cut.part").write_bytes(b"y" * 100)
    relay.clear()
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        for key, data in blobs.items():
            assert get(s3, bucket, key) == (data, "hit")
        assert relay.requests == []
        assert daemon.cache_stats()["entries"] == len(blobs)
    assert not (data_dir / "zz" / "orphan").exists()
    assert not (data_dir / "zz" / "cut.part").exists()


def _data_file(root: Path) -> Path:
    files = [p for p in (root / "cache" / "data").rglob("*") if p.is_file()]
    assert len(files) == 1
    return files[0]


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupted_cache_file_is_refetched_not_served(relay, remote, tmp_path, damage) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    data = os.urandom(512 * KiB)
    remote.put_object(Bucket=bucket, Key="c", Body=data)
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        assert get(s3, bucket, "c") == (data, "miss")
        path = _data_file(tmp_path)
        if damage == "flip":
            with open(path, "r+b") as file:
                file.seek(1000)
                byte = file.read(1)
                file.seek(1000)
                file.write(bytes([byte[0] ^ 0xFF]))
        else:
            with open(path, "r+b") as file:
                file.truncate(1000)
        relay.clear()
        assert get(s3, bucket, "c") == (data, "miss")
        assert relay.count("GET", f"/{bucket}/c") == 1
        assert daemon.cache_stats()["corrupt_dropped"] >= 1
        assert get(s3, bucket, "c") == (data, "hit")


def test_writes_through_s3d_invalidate_at_once(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=bucket, Key="w", Body=b"one")
        assert get(s3, bucket, "w")[0] == b"one"
        s3.put_object(Bucket=bucket, Key="w", Body=b"two")
        assert get(s3, bucket, "w") == (b"two", "miss")
        s3.copy_object(
            Bucket=bucket,
            Key="w",
            CopySource={"Bucket": bucket, "Key": "w"},
            MetadataDirective="REPLACE",
            Metadata={"m": "1"},
        )
        assert s3.head_object(Bucket=bucket, Key="w")["Metadata"] == {"m": "1"}
        s3.put_object_tagging(
            Bucket=bucket, Key="w", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
        )
        assert s3.get_object(Bucket=bucket, Key="w")["TagCount"] == 1
        s3.delete_object(Bucket=bucket, Key="w")
        with pytest.raises(ClientError):
            s3.get_object(Bucket=bucket, Key="w")
        up = s3.create_multipart_upload(Bucket=bucket, Key="w")
        part = s3.upload_part(
            Bucket=bucket, Key="w", UploadId=up["UploadId"], PartNumber=1, Body=b"mp"
        )
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="w",
            UploadId=up["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        assert get(s3, bucket, "w")[0] == b"mp"


def test_hits_keep_remote_headers_ranges_and_conditions(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    data = os.urandom(100 * KiB)
    remote.put_object(
        Bucket=bucket,
        Key="h",
        Body=data,
        ContentType="text/x-h",
        Metadata={"a": "1"},
        CacheControl="max-age=5",
        Tagging="t=1",
    )
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        miss = s3.get_object(Bucket=bucket, Key="h")
        miss["Body"].read()
        hit = s3.get_object(Bucket=bucket, Key="h")
        assert hit["Body"].read() == data
        assert hit["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"] == "hit"
        for field in (
            "ETag",
            "ContentType",
            "Metadata",
            "CacheControl",
            "TagCount",
            "LastModified",
        ):
            assert hit[field] == miss[field], field
        part = s3.get_object(Bucket=bucket, Key="h", Range="bytes=100-199")
        assert part["ContentRange"] == f"bytes 100-199/{len(data)}"
        assert part["Body"].read() == data[100:200]
        head = s3.head_object(Bucket=bucket, Key="h")
        assert head["ContentLength"] == len(data)
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"] == "hit"
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key="h", IfNoneMatch=hit["ETag"])
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key="h", IfMatch='"nope"')
        assert exc.value.response["Error"]["Code"] == "PreconditionFailed"
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key="h", Range=f"bytes={len(data)}-")
        assert exc.value.response["Error"]["Code"] == "InvalidRange"
        overridden = s3.get_object(Bucket=bucket, Key="h", ResponseContentType="image/png")
        assert overridden["ContentType"] == "image/png"
        versions = s3.get_object(Bucket=bucket, Key="h", VersionId="null")
        assert versions["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"] == "bypass"


def test_client_leaving_mid_stream_leaves_no_corrupt_entry(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    data = os.urandom(6 * MiB)
    remote.put_object(Bucket=bucket, Key="cut", Body=data)
    with cached_daemon(relay, tmp_path) as daemon:
        import http.client
        import urllib.parse

        from tests.support import sign

        url, headers = sign("GET", f"{daemon.endpoint_url}/{bucket}/cut")
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("GET", parts.path, headers=headers)
        response = conn.getresponse()
        assert response.read(100 * KiB) == data[: 100 * KiB]
        conn.close()  # gone after 100 KiB of 6 MiB
        time.sleep(1.0)
        s3 = client(daemon.endpoint_url)
        whole, _ = get(s3, bucket, "cut")
        assert whole == data
        assert get(s3, bucket, "cut") == (data, "hit")


def test_status_endpoint_reports_cache_counters(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.support import send, sign

    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="s", Body=b"status")
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        get(s3, bucket, "s")
        get(s3, bucket, "s")
        get(s3, bucket, "s")
        url, headers = sign("GET", f"{daemon.endpoint_url}/_s3d/status")
        status, _, body = send("GET", url, headers)
        assert status == 200
        cache = json.loads(body)["cache"]
        assert (cache["misses"], cache["hits"], cache["entries"]) == (1, 2, 1)
        assert cache["bytes"] == len(b"status")
        assert cache["hit_ratio"] == round(2 / 3, 4)
