"""A remote that accepts connections and never answers (a "black hole"): a cached object past
freshness is served stale, a write-back listing answers from what the node knows, and an
uncached read gets 503 ServiceUnavailable. None of them waits out the remote's read timeout.

The cache is seeded through a real moto server; the daemon is then started again on the same
data directory, pointed at the black hole (tests/remote/black_hole.py)."""

from __future__ import annotations

import http.client
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from xml.etree import ElementTree

import pytest

from s3d.settings import Settings
from tests.remote.black_hole import BlackHole, stalled_get
from tests.support import (
    REMOTE_KEY,
    REMOTE_SECRET,
    DaemonThread,
    client,
    daemon_settings,
    s3_error_code,
    send,
    sign,
)

# send() gives each request 30 s: an answer that waited for the remote's read timeout (120 s
# below) would not come in time. No assertion here is on how long an answer took.
SLOW_READS = 120.0
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@dataclass(frozen=True)
class Seeded:
    data_dir: Path
    bucket: str
    objects: dict[str, bytes]


@pytest.fixture(scope="module")
def seeded(remote_url: str, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """Objects put on moto, then read through s3d until its cache holds each of them."""
    data_dir = tmp_path_factory.mktemp("black-hole")
    bucket = f"hole-{uuid.uuid4().hex[:12]}"
    objects = {
        "docs/a.txt": b"first document",
        "docs/b.txt": b"second document",
        "top.bin": os.urandom(300_000),
    }
    remote = client(remote_url, key=REMOTE_KEY, secret=REMOTE_SECRET)
    remote.create_bucket(Bucket=bucket)
    for key, data in objects.items():
        remote.put_object(Bucket=bucket, Key=key, Body=data)
    with DaemonThread(daemon_settings(remote_url, data_dir, mode="write-back")) as s3d:
        for key, data in objects.items():
            deadline = time.monotonic() + 30
            while True:
                status, headers, body = request(s3d, "GET", f"/{bucket}/{key}")
                assert (status, body) == (200, data)
                if headers["x-s3d-cache"] == "hit":
                    break
                assert time.monotonic() < deadline, f"{key} never became a cache hit"
                time.sleep(0.1)
    return Seeded(data_dir, bucket, objects)


@pytest.fixture
def hole() -> Iterator[BlackHole]:
    with BlackHole() as server:
        yield server


def request(
    s3d: DaemonThread, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    url, signed = sign(method, f"{s3d.endpoint_url}{path}", headers=headers)
    return send(method, url, signed)


def black_hole_settings(seeded: Seeded, url: str, **remote: object) -> Settings:
    settings = daemon_settings(url, seeded.data_dir, mode="write-back")
    tuned = {"connect_timeout": 2.0, "max_attempts": 2, "listing_deadline": 1.0, **remote}
    return replace(
        settings,
        remote=replace(settings.remote, **tuned),
        cache=replace(settings.cache, freshness=0.0, revalidation_deadline=1.0),
    )


def listed(body: bytes) -> tuple[list[str], list[str]]:
    root = ElementTree.fromstring(body)
    keys = [e.text or "" for e in root.iter(f"{_NS}Key")]
    prefixes = [e.text or "" for e in root.iter(f"{_NS}Prefix") if e.text]
    return keys, prefixes


def test_cached_reads_are_served_stale(seeded: Seeded, hole: BlackHole) -> None:
    settings = black_hole_settings(seeded, hole.url, read_timeout=SLOW_READS)
    with DaemonThread(settings) as s3d:
        for key, data in seeded.objects.items():
            status, headers, body = request(s3d, "GET", f"/{seeded.bucket}/{key}")
            assert (status, headers["x-s3d-cache"]) == (200, "stale")
            assert body == data
        status, headers, body = request(
            s3d, "GET", f"/{seeded.bucket}/top.bin", {"Range": "bytes=1000-1999"}
        )
        assert (status, headers["x-s3d-cache"]) == (206, "stale")
        assert body == seeded.objects["top.bin"][1000:2000]
        status, headers, _ = request(s3d, "HEAD", f"/{seeded.bucket}/docs/a.txt")
        assert (status, headers["x-s3d-cache"]) == (200, "stale")
        assert headers["content-length"] == str(len(seeded.objects["docs/a.txt"]))
        assert s3d.cache_stats()["stale"] == 5
    assert hole.accepted >= 1  # the remote was asked, and never answered


def test_listing_answers_from_local_knowledge(seeded: Seeded, hole: BlackHole) -> None:
    settings = black_hole_settings(seeded, hole.url, read_timeout=SLOW_READS)
    with DaemonThread(settings) as s3d:
        status, _, body = request(s3d, "GET", f"/{seeded.bucket}?list-type=2")
        assert status == 200, body
        assert listed(body)[0] == sorted(seeded.objects)
        status, _, body = request(s3d, "GET", f"/{seeded.bucket}?delimiter=%2F&list-type=2")
        assert status == 200, body
        assert listed(body) == (["top.bin"], ["docs/"])
    assert hole.accepted >= 1


def test_uncached_read_is_service_unavailable(seeded: Seeded, hole: BlackHole) -> None:
    # The read timeout ends each attempt; the retry window stops botocore from trying again.
    settings = black_hole_settings(seeded, hole.url, read_timeout=1.0, retry_window=0.0)
    with DaemonThread(settings) as s3d:
        status, headers, body = request(s3d, "GET", f"/{seeded.bucket}/never-cached")
        assert status == 503, body
        assert s3_error_code(body) == "ServiceUnavailable"
        assert f"<RequestId>{headers['x-amz-request-id']}</RequestId>" in body.decode()
        assert b"stopped answering" in body
        # What is cached is still served.
        status, headers, body = request(s3d, "GET", f"/{seeded.bucket}/docs/b.txt")
        assert (status, headers["x-s3d-cache"], body) == (200, "stale", b"second document")


def test_a_body_that_stalls_is_cut_not_held(tmp_path: Path) -> None:
    # The remote answers a GET's headers and 100 of its 1000 bytes, then nothing. The answer
    # to the client has started: it is cut at the read timeout (a hang would end in the
    # client's own 30 s socket timeout instead), and no partial bytes are kept as cached.
    with BlackHole(stalled_get(1000, b"x" * 100)) as hole:
        settings = daemon_settings(hole.url, tmp_path, mode="write-back")
        tuned = {"read_timeout": 1.0, "max_attempts": 1}
        settings = replace(settings, remote=replace(settings.remote, **tuned))
        with DaemonThread(settings) as s3d:
            for _ in range(2):
                with pytest.raises(http.client.IncompleteRead):
                    request(s3d, "GET", "/stalled/key")
            stats = s3d.cache_stats()
            assert (stats["hits"], stats["misses"], stats["bytes"]) == (0, 2, 0)
