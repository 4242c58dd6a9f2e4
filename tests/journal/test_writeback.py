"""Write-back against a real moto remote behind a relay that can hold writes (changes stay
pending while the remote still answers reads) or go away entirely."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3d.settings import CacheSettings, JournalSettings
from tests.support import CountingRelay, DaemonThread, client, daemon_settings, send, sign

KiB = 1024
MiB = 1024 * KiB


def writeback(
    relay_url: str, data_dir: Path, cache: dict | None = None, **journal: object
) -> DaemonThread:  # type: ignore[type-arg]
    settings = daemon_settings(relay_url, data_dir, mode="write-back")
    options = {**dataclasses.asdict(settings.journal), **journal}
    settings = dataclasses.replace(settings, journal=JournalSettings(**options))  # type: ignore[arg-type]
    if cache is not None:
        settings = dataclasses.replace(settings, cache=CacheSettings(**cache))
    return DaemonThread(settings)


def new_bucket(remote) -> str:  # type: ignore[no-untyped-def]
    name = f"w-{uuid.uuid4().hex[:16]}"
    remote.create_bucket(Bucket=name)
    return name


def status(daemon: DaemonThread) -> dict:  # type: ignore[type-arg]
    url, headers = sign("GET", f"{daemon.endpoint_url}/_s3d/status")
    code, _, body = send("GET", url, headers)
    assert code == 200
    return json.loads(body)  # type: ignore[no-any-return]


def drained(daemon: DaemonThread, seconds: float = 60.0) -> None:
    journal = daemon.daemon.journal  # type: ignore[union-attr]
    assert journal is not None
    assert daemon.call(journal.wait_idle(seconds)), "the journal did not drain"
    assert [job for job in journal.queue.all() if job.dead] == [], "dead letters"


def state(answer) -> str:  # type: ignore[no-untyped-def]
    return str(answer["ResponseMetadata"]["HTTPHeaders"].get("x-s3d-state", ""))


def test_read_your_writes_while_pending_then_uploaded(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="remote-only", Body=b"r")
    remote.put_object(Bucket=bucket, Key="doomed", Body=b"d")
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        body = os.urandom(200 * KiB)
        put = s3.put_object(
            Bucket=bucket,
            Key="dir/new",
            Body=body,
            ContentType="text/x-w",
            Metadata={"m": "1"},
            Tagging="t=1",
            CacheControl="no-cache",
        )
        assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
        assert state(put) == "pending"
        s3.delete_object(Bucket=bucket, Key="doomed")
        got = s3.get_object(Bucket=bucket, Key="dir/new")
        assert got["Body"].read() == body
        assert (got["ETag"], got["ContentType"], got["Metadata"]) == (
            put["ETag"],
            "text/x-w",
            {"m": "1"},
        )
        assert got["CacheControl"] == "no-cache"
        assert got["TagCount"] == 1
        assert state(got) == "pending"
        part = s3.get_object(Bucket=bucket, Key="dir/new", Range="bytes=100-199")
        assert part["Body"].read() == body[100:200]
        assert s3.get_object_tagging(Bucket=bucket, Key="dir/new")["TagSet"] == [
            {"Key": "t", "Value": "1"}
        ]
        with pytest.raises(ClientError) as exc:
            s3.head_object(Bucket=bucket, Key="doomed")
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        listed = s3.list_objects_v2(Bucket=bucket)
        assert [o["Key"] for o in listed["Contents"]] == ["dir/new", "remote-only"]
        assert s3.list_objects_v2(Bucket=bucket, Delimiter="/")["CommonPrefixes"] == [
            {"Prefix": "dir/"}
        ]
        journal = status(daemon)["journal"]
        assert journal["queue"] == 2
        assert journal["pending_bytes"] == len(body)
        assert journal["oldest_pending_seconds"] >= 0
        # Nothing reached the remote yet.
        with pytest.raises(ClientError):
            remote.head_object(Bucket=bucket, Key="dir/new")
        relay.hold_writes(False)
        drained(daemon)
        stored = remote.get_object(Bucket=bucket, Key="dir/new")
        assert stored["Body"].read() == body
        assert (stored["ETag"], stored["ContentType"], stored["Metadata"]) == (
            put["ETag"],
            "text/x-w",
            {"m": "1"},
        )
        assert remote.get_object_tagging(Bucket=bucket, Key="dir/new")["TagSet"] == [
            {"Key": "t", "Value": "1"}
        ]
        with pytest.raises(ClientError):
            remote.head_object(Bucket=bucket, Key="doomed")
        # The uploaded file became the cache's entry: a hit, marked uploaded.
        relay.clear()
        again = s3.get_object(Bucket=bucket, Key="dir/new")
        assert again["Body"].read() == body
        headers = again["ResponseMetadata"]["HTTPHeaders"]
        assert (headers["x-s3d-cache"], headers["x-s3d-state"]) == ("hit", "uploaded")
        assert relay.requests == []
        assert status(daemon)["journal"]["queue"] == 0


def test_remote_outage_hundred_writes(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_remote_outage import SwitchableRemote

    down = SwitchableRemote()
    down.start()
    bucket = new_bucket(remote)
    down_client = client(down.url, key="k", secret="s")
    down_client.head_bucket(Bucket=bucket)  # the same moto backend: the bucket is there
    try:
        with writeback(down.url, tmp_path) as daemon:
            s3 = client(daemon.endpoint_url)
            s3.head_bucket(Bucket=bucket)
            down.stop()
            blobs = {f"o/{i:03d}": os.urandom(1000 + i) for i in range(100)}
            etags = {
                k: s3.put_object(Bucket=bucket, Key=k, Body=v)["ETag"] for k, v in blobs.items()
            }
            for key in ("o/000", "o/050", "o/099"):
                assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == blobs[key]
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, PaginationConfig={"PageSize": 30}
            )
            listed = [o["Key"] for page in pages for o in page.get("Contents", [])]
            assert listed == sorted(blobs)
            assert status(daemon)["journal"]["queue"] == 100
            down.start()
            drained(daemon)
            for key, data in blobs.items():
                stored = remote.get_object(Bucket=bucket, Key=key)
                assert stored["Body"].read() == data
                assert stored["ETag"] == etags[key]
    finally:
        down.stop()


def test_permanent_failure_is_dead_lettered(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=bucket, Key="first", Body=b"1")
        drained(daemon)
        remote.delete_object(Bucket=bucket, Key="first")
        remote.delete_bucket(Bucket=bucket)  # behind s3d's back: uploads will be refused
        s3.put_object(Bucket=bucket, Key="orphan", Body=b"x")
        journal = daemon.daemon.journal  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while status(daemon)["journal"]["dead_letters"] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        report = status(daemon)["journal"]
        assert report["dead_letters"] == 1
        assert report["dead"][0]["key"] == "orphan"
        assert report["dead"][0]["error"].startswith("NoSuchBucket")
        # Still readable locally (acknowledged is acknowledged) until discarded.
        assert s3.get_object(Bucket=bucket, Key="orphan")["Body"].read() == b"x"
        remote.create_bucket(Bucket=bucket)
        assert daemon.call(journal.retry(None)) == 1
        drained(daemon)
        assert remote.get_object(Bucket=bucket, Key="orphan")["Body"].read() == b"x"
        assert status(daemon)["journal"]["dead_letters"] == 0


def test_per_key_order_with_a_slow_remote(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with CountingRelay(remote_url, delay=0.3) as slow, writeback(slow.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=bucket, Key="k", Body=b"v1")
        time.sleep(0.1)  # v1 is on its way to the remote
        s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
        s3.delete_object(Bucket=bucket, Key="k")
        s3.put_object(Bucket=bucket, Key="k", Body=b"v3")
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v3"
        drained(daemon)
        assert remote.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v3"
        sent = [body for method, path, body in slow.writes if path.startswith(f"/{bucket}/k")]
        versions = [b for b in sent if b in (b"v1", b"v2", b"v3")]
        # Order kept, and what was superseded before it ran was never sent.
        assert versions == sorted(versions)
        assert versions[-1] == b"v3"
        assert b"v2" not in versions or versions.index(b"v2") < versions.index(b"v3")


def test_backpressure_slow_down_then_recover(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path, cache={"max_size": 1 * MiB}) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        accepted = {}
        refused = None
        for i in range(10):
            data = os.urandom(300 * KiB)
            try:
                s3.put_object(Bucket=bucket, Key=f"b{i}", Body=data)
                accepted[f"b{i}"] = data
            except ClientError as exc:
                refused = exc
                break
        assert refused is not None
        assert refused.response["Error"]["Code"] == "SlowDown"
        assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert refused.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "5"
        assert len(accepted) == 3
        relay.hold_writes(False)
        drained(daemon)
        s3.put_object(Bucket=bucket, Key="after", Body=b"ok")
        drained(daemon)
        for key, data in accepted.items():
            assert remote.get_object(Bucket=bucket, Key=key)["Body"].read() == data
        assert remote.get_object(Bucket=bucket, Key="after")["Body"].read() == b"ok"


def layout(*parts: tuple[int, str]) -> dict:  # type: ignore[type-arg]
    return {"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]}


def test_multipart_upload_assembled_locally(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        up = s3.create_multipart_upload(Bucket=bucket, Key="mp", Metadata={"x": "y"})
        uid = up["UploadId"]
        assert uid.startswith("s3d-")
        p1, p2, p3 = os.urandom(5 * MiB), os.urandom(5 * MiB + 7), os.urandom(1234)
        e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
        e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
        e3 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=3, Body=p3)["ETag"]
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
        parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
        assert [(p["PartNumber"], p["Size"]) for p in parts] == [
            (1, len(p1)),
            (2, len(p2)),
            (3, len(p3)),
        ]
        with pytest.raises(ClientError) as exc:
            s3.complete_multipart_upload(
                Bucket=bucket,
                Key="mp",
                UploadId=uid,
                MultipartUpload=layout((1, e1), (3, e3), (2, e2)),
            )
        assert exc.value.response["Error"]["Code"] == "InvalidPartOrder"
        small = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
        s1 = s3.upload_part(Bucket=bucket, Key="small", UploadId=small, PartNumber=1, Body=b"a")[
            "ETag"
        ]
        s2 = s3.upload_part(Bucket=bucket, Key="small", UploadId=small, PartNumber=2, Body=b"b")[
            "ETag"
        ]
        with pytest.raises(ClientError) as exc:
            s3.complete_multipart_upload(
                Bucket=bucket,
                Key="small",
                UploadId=small,
                MultipartUpload=layout((1, s1), (2, s2)),
            )
        assert exc.value.response["Error"]["Code"] == "EntityTooSmall"
        s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small)
        done = s3.complete_multipart_upload(
            Bucket=bucket,
            Key="mp",
            UploadId=uid,
            MultipartUpload=layout((1, e1), (2, e2), (3, e3)),
        )
        expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in (p1, p2, p3))).hexdigest()
        assert done["ETag"] == f'"{expected}-3"'
        whole = s3.get_object(Bucket=bucket, Key="mp")
        assert whole["Body"].read() == p1 + p2 + p3
        assert whole["Metadata"] == {"x": "y"}
        across = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB - 3}-{5 * MiB + 2}")
        assert across["Body"].read() == (p1 + p2)[5 * MiB - 3 : 5 * MiB + 3]
        relay.hold_writes(False)
        drained(daemon)
        stored = remote.head_object(Bucket=bucket, Key="mp")
        assert stored["ETag"] == done["ETag"]  # the client's part boundaries were kept
        assert stored["Metadata"] == {"x": "y"}
        assert remote.get_object(Bucket=bucket, Key="mp")["Body"].read() == p1 + p2 + p3


def test_large_single_put_goes_up_as_multipart(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    config = {"multipart_threshold": 5 * MiB, "part_size": 5 * MiB}
    with writeback(relay.url, tmp_path, **config) as daemon:
        s3 = client(daemon.endpoint_url)
        data = os.urandom(12 * MiB + 1)
        put = s3.put_object(Bucket=bucket, Key="big", Body=data)
        assert put["ETag"].endswith('-3"')
        drained(daemon)
        assert remote.head_object(Bucket=bucket, Key="big")["ETag"] == put["ETag"]
        assert (
            hashlib.sha256(remote.get_object(Bucket=bucket, Key="big")["Body"].read()).digest()
            == hashlib.sha256(data).digest()
        )
        uploads = [
            p for m, p, _ in relay.writes if p.startswith(f"/{bucket}/big?") and "partNumber=" in p
        ]
        assert len(uploads) == 3


def test_copies_and_tags_in_write_back(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_object(
        Bucket=bucket, Key="far", Body=b"remote bytes", Metadata={"r": "1"}, Tagging="a=b"
    )
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        s3.put_object(Bucket=bucket, Key="near", Body=b"pending bytes", Metadata={"p": "1"})
        c1 = s3.copy_object(Bucket=bucket, Key="c1", CopySource={"Bucket": bucket, "Key": "near"})
        c2 = s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "far"})
        s3.copy_object(
            Bucket=bucket,
            Key="c3",
            CopySource={"Bucket": bucket, "Key": "far"},
            MetadataDirective="REPLACE",
            Metadata={"n": "2"},
            TaggingDirective="REPLACE",
            Tagging="x=y",
        )
        assert c1["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"pending bytes").hexdigest()}"'
        assert c2["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"remote bytes").hexdigest()}"'
        assert s3.head_object(Bucket=bucket, Key="c1")["Metadata"] == {"p": "1"}
        assert s3.get_object_tagging(Bucket=bucket, Key="c2")["TagSet"] == [
            {"Key": "a", "Value": "b"}
        ]
        assert s3.head_object(Bucket=bucket, Key="c3")["Metadata"] == {"n": "2"}
        s3.put_object_tagging(
            Bucket=bucket, Key="near", Tagging={"TagSet": [{"Key": "t", "Value": "2"}]}
        )
        assert s3.get_object_tagging(Bucket=bucket, Key="near")["TagSet"] == [
            {"Key": "t", "Value": "2"}
        ]
        with pytest.raises(ClientError) as exc:
            s3.copy_object(Bucket=bucket, Key="near", CopySource={"Bucket": bucket, "Key": "near"})
        assert exc.value.response["Error"]["Code"] == "InvalidRequest"
        relay.hold_writes(False)
        drained(daemon)
        assert remote.get_object(Bucket=bucket, Key="c1")["Body"].read() == b"pending bytes"
        assert remote.head_object(Bucket=bucket, Key="c2")["Metadata"] == {"r": "1"}
        assert remote.get_object_tagging(Bucket=bucket, Key="c3")["TagSet"] == [
            {"Key": "x", "Value": "y"}
        ]
        assert remote.get_object_tagging(Bucket=bucket, Key="near")["TagSet"] == [
            {"Key": "t", "Value": "2"}
        ]


def test_conditional_writes_against_pending_state(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="exists", Body=b"e")
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        etag = s3.put_object(Bucket=bucket, Key="new", Body=b"1", IfNoneMatch="*")["ETag"]
        for key in ("new", "exists"):
            with pytest.raises(ClientError) as exc:
                s3.put_object(Bucket=bucket, Key=key, Body=b"2", IfNoneMatch="*")
            assert exc.value.response["Error"]["Code"] == "PreconditionFailed"
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="new", Body=b"3", IfMatch='"nope"')
        assert exc.value.response["Error"]["Code"] == "PreconditionFailed"
        s3.put_object(Bucket=bucket, Key="new", Body=b"4", IfMatch=etag)
        assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == b"4"
        relay.hold_writes(False)


def test_restart_resumes_pending_changes(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    relay_writes_held = True
    with writeback(relay.url, tmp_path, flush_on_stop=0.5) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(relay_writes_held)
        s3.put_object(Bucket=bucket, Key="survivor", Body=b"kept across a restart")
        s3.delete_object(Bucket=bucket, Key="never")
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        assert (
            s3.get_object(Bucket=bucket, Key="survivor")["Body"].read() == b"kept across a restart"
        )
        relay.hold_writes(False)
        drained(daemon)
        assert (
            remote.get_object(Bucket=bucket, Key="survivor")["Body"].read()
            == b"kept across a restart"
        )


def test_listing_merges_pending_changes_across_pages(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote_keys = ["a/1", "a/3", "b/1", "c", "d/x/1", "e", "g/1"]
    for key in remote_keys:
        remote.put_object(Bucket=bucket, Key=key, Body=b"r")
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        for key in ["a/2", "b/0", "cc", "f/1", "h"]:
            s3.put_object(Bucket=bucket, Key=key, Body=b"p")
        for key in ["a/3", "e", "g/1"]:
            s3.delete_object(Bucket=bucket, Key=key)
        expected_keys = sorted(
            ({*remote_keys} | {"a/2", "b/0", "cc", "f/1", "h"}) - {"a/3", "e", "g/1"}
        )
        for page_size in (1, 2, 3, 1000):
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, PaginationConfig={"PageSize": page_size}
            )
            assert [o["Key"] for p in pages for o in p.get("Contents", [])] == expected_keys
            rolled = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": page_size}
            )
            seen = [
                *(o["Key"] for p in rolled for o in p.get("Contents", [])),
            ]
            rolled = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": page_size}
            )
            prefixes = [c["Prefix"] for p in rolled for c in p.get("CommonPrefixes", [])]
            # g/ held only g/1, deleted: the prefix is gone; f/ exists only as a pending put.
            assert prefixes == ["a/", "b/", "d/", "f/"]
            assert seen == ["c", "cc", "h"]
            v1 = s3.get_paginator("list_objects").paginate(
                Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": page_size}
            )
            entries = [
                *(o["Key"] for p in v1 for o in p.get("Contents", [])),
            ]
            assert entries == ["c", "cc", "h"]
        relay.hold_writes(False)
        drained(daemon)
        final = [o["Key"] for o in remote.list_objects_v2(Bucket=bucket)["Contents"]]
        assert final == expected_keys


def test_starts_and_serves_with_the_remote_down(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_remote_outage import SwitchableRemote

    down = SwitchableRemote()  # not started: nothing listens on its port
    bucket = new_bucket(remote)
    try:
        with writeback(down.url, tmp_path) as daemon:
            s3 = client(daemon.endpoint_url)
            etag = s3.put_object(Bucket=bucket, Key="early", Body=b"written while down")["ETag"]
            assert s3.get_object(Bucket=bucket, Key="early")["Body"].read() == b"written while down"
            listed = s3.list_objects_v2(Bucket=bucket)
            assert [o["Key"] for o in listed["Contents"]] == ["early"]
            down.start()
            drained(daemon)
            assert remote.head_object(Bucket=bucket, Key="early")["ETag"] == etag
    finally:
        down.stop()


def test_sigterm_flushes_before_exit(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import signal

    from tests.support import (
        ACCESS_KEY,
        REMOTE_KEY,
        REMOTE_SECRET,
        SECRET_KEY,
        DaemonProcess,
        write_config,
    )

    bucket = new_bucket(remote)
    with CountingRelay(remote_url, delay=0.05) as slow:
        keys = [{"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}]
        config = write_config(
            tmp_path / "s3d.toml",
            {
                "": {"data_dir": str(tmp_path / "data")},
                "server": {"port": 0, "access_keys": keys},
                "remote": {
                    "endpoint_url": slow.url,
                    "access_key_id": REMOTE_KEY,
                    "secret_access_key": REMOTE_SECRET,
                },
                "journal": {"mode": "write-back", "flush_on_stop": 60.0},
            },
        )
        with DaemonProcess(["--config", str(config)]) as process:
            s3 = client(process.endpoint_url)
            slow.hold_writes(True)
            blobs = {f"t{i}": os.urandom(10_000) for i in range(30)}
            for key, data in blobs.items():
                s3.put_object(Bucket=bucket, Key=key, Body=data)
            process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            # Still flushing: the remote has not taken anything yet.
            assert process.process.poll() is None
            assert "Contents" not in remote.list_objects_v2(Bucket=bucket)
            slow.hold_writes(False)
            assert process.wait(90) == 0
        for key, data in blobs.items():
            assert remote.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_remote_uploads_left_by_a_crash_are_aborted_at_start(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A daemon killed between opening a multipart upload on the remote and completing it
    leaves the upload recorded in its journal: the next start aborts it. The record is
    written here as the killed daemon would have left it (test_crash.py kills for real)."""
    import asyncio

    from s3d.journal.store import JournalStore, open_remote_upload

    bucket = new_bucket(remote)
    left = remote.create_multipart_upload(Bucket=bucket, Key="left")["UploadId"]
    remote.upload_part(Bucket=bucket, Key="left", UploadId=left, PartNumber=1, Body=b"p" * 100)
    gone = remote.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    remote.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=gone)
    foreign = remote.create_multipart_upload(Bucket=bucket, Key="left")["UploadId"]

    async def record() -> None:
        async with JournalStore(tmp_path / "journal" / "journal.sqlite") as store:
            await store.write(
                [
                    open_remote_upload(left, bucket, "left", time.time()),
                    open_remote_upload(gone, bucket, "gone", time.time()),
                ]
            )

    asyncio.run(record())
    config = {"multipart_threshold": 5 * MiB, "part_size": 5 * MiB}
    with writeback(relay.url, tmp_path, **config) as daemon:
        deadline = time.monotonic() + 30
        while status(daemon)["journal"]["remote_uploads_to_abort"]:
            assert time.monotonic() < deadline, status(daemon)["journal"]
            time.sleep(0.05)
        open_uploads = remote.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        # Only the upload s3d never opened is left: it may be another client's.
        assert [u["UploadId"] for u in open_uploads] == [foreign]
        # An upload s3d opens and completes is recorded only while it is open.
        s3 = client(daemon.endpoint_url)
        s3.put_object(Bucket=bucket, Key="big", Body=os.urandom(11 * MiB))
        drained(daemon)
        journal = daemon.daemon.journal  # type: ignore[union-attr]
        assert daemon.call(journal.core.store.remote_uploads()) == []
        open_uploads = remote.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        assert [u["UploadId"] for u in open_uploads] == [foreign]
    remote.abort_multipart_upload(Bucket=bucket, Key="left", UploadId=foreign)


def test_one_upload_slot_drains_a_backlog(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With one upload at a time, each finished upload must start the next: the slot frees
    only after the uploaded file went to the cache, later than the job left the queue."""
    bucket = new_bucket(remote)
    with writeback(relay.url, tmp_path, upload_concurrency=1) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_writes(True)
        for n in range(5):
            s3.put_object(Bucket=bucket, Key=f"k{n}", Body=b"%d" % n * 1000)
        relay.hold_writes(False)
        drained(daemon, 30)
        keys = [o["Key"] for o in remote.list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == [f"k{n}" for n in range(5)]
        # Each uploaded file becomes a cache entry (the last one just after the queue empties).
        deadline = time.monotonic() + 10
        while daemon.cache_stats()["entries"] != 5:
            assert time.monotonic() < deadline, daemon.cache_stats()
            time.sleep(0.05)


def test_a_stalled_remote_does_not_hold_acknowledgements(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A remote that accepts connections and never answers (not refused: stalled) must not
    hold writes back: the bucket check gives up after BUCKET_CHECK_WAIT, and a bucket known
    before is trusted while it is asked about again in the background. The client here gives
    up after 20 s; the daemon's remote read timeout is 60 s."""
    import socket
    import threading

    from s3d.journal.buckets import BUCKET_KNOWN_FOR

    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def swallow() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=swallow, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with writeback(url, tmp_path) as daemon:
            journal = daemon.daemon.journal  # type: ignore[union-attr]
            s3 = client(daemon.endpoint_url, read_timeout=20)
            unknown = s3.put_object(Bucket="never-asked", Key="k", Body=b"1")
            assert state(unknown) == "pending"

            def age_confirmation() -> None:
                journal.buckets.confirmed["known"] = time.monotonic() - BUCKET_KNOWN_FOR - 1

            async def aged() -> None:
                age_confirmation()

            daemon.call(aged())
            known = s3.put_object(Bucket="known", Key="k", Body=b"2")
            assert state(known) == "pending"

            async def checking() -> list[str]:
                return sorted(journal.buckets.checks)

            assert "known" in daemon.call(checking())  # asked again, in the background
            assert status(daemon)["journal"]["queue"] == 2
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()
