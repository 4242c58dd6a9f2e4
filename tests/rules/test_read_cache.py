"""The read cache's rules with a real daemon, moto as the remote and boto3: cache, bypass,
pin (survives eviction pressure), an own freshness; bucket tags vs object tags; headers and
user metadata of cached reads; tag overrides set at run time."""

from __future__ import annotations

import os

from s3d.settings import CacheSettings
from tests.rules.daemons import header, new_bucket, with_rules
from tests.support import client

MiB = 1024 * 1024

RULES = """\
[read-cache]
-         {b}/private/*
pin       {b}/models/*
cache=0s  {b}/live/*
-         {b}/*[hdr:content-type='video/*']
-         {b}/*[md:cache=no]
-         {b}/*[tag:cache=no]
-         {tb}[tag:cache=no]
+         *
"""


def cached(s3, bucket: str, key: str) -> str:  # type: ignore[no-untyped-def]
    answer = s3.get_object(Bucket=bucket, Key=key)
    answer["Body"].read()
    return header(answer, "x-s3d-cache")


def test_cache_bypass_and_freshness_per_rule(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b, tb = new_bucket(remote), new_bucket(remote, "t")
    remote.put_bucket_tagging(Bucket=tb, Tagging={"TagSet": [{"Key": "cache", "Value": "no"}]})
    objects = {
        (b, "plain"): {},
        (b, "private/p"): {},
        (b, "live/l"): {},
        (b, "clip"): {"ContentType": "video/mp4"},
        (b, "text"): {"ContentType": "text/plain"},
        (b, "meta"): {"Metadata": {"cache": "no"}},
        (b, "tagged"): {"Tagging": "cache=no"},
        (b, "tagged-yes"): {"Tagging": "cache=yes"},
        (tb, "in-tagged-bucket"): {},
    }
    for (bucket, key), arguments in objects.items():
        remote.put_object(Bucket=bucket, Key=key, Body=b"data", **arguments)
    text = RULES.format(b=b, tb=tb)
    with with_rules(remote_url, tmp_path / "d", text) as daemon:
        s3 = client(daemon.endpoint_url)
        for bucket, key in objects:
            cached(s3, bucket, key)
        second = {key: cached(s3, bucket, key) for bucket, key in objects}
        assert second == {
            "plain": "hit",
            "private/p": "bypass",
            "live/l": "revalidated",  # its own freshness, 0 s: asked again every time
            "clip": "bypass",
            "text": "hit",
            "meta": "bypass",
            "tagged": "bypass",
            "tagged-yes": "hit",
            "in-tagged-bucket": "bypass",
        }
        status = daemon.daemon.steering.status()  # type: ignore[union-attr]
        # Tags and headers were looked up once per key, then remembered.
        lookups = status["lookups"]
        for bucket, key in objects:
            cached(s3, bucket, key)
        assert daemon.daemon.steering.status()["lookups"] == lookups  # type: ignore[union-attr]


def test_a_pinned_object_survives_eviction_pressure(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    keys = ["models/m"] + [f"other{i}" for i in range(8)]
    for key in keys:
        remote.put_object(Bucket=b, Key=key, Body=os.urandom(MiB))
    cache = CacheSettings(
        max_size=4 * MiB, freshness=300.0, block_size=1 * MiB, whole_object_max=1 * MiB,
        memory_size=0,
    )  # fmt: skip
    with with_rules(remote_url, tmp_path / "d", RULES.format(b=b, tb="none"), cache=cache) as d:
        s3 = client(d.endpoint_url)
        for key in keys:  # models/m is the least recently used of all
            assert cached(s3, b, key) == "miss"
        stats = d.cache_stats()
        assert stats["evictions"] >= 4
        assert stats["pinned"] == 1
        assert cached(s3, b, "models/m") == "hit"
        assert cached(s3, b, "other0") == "miss"  # unpinned and as old: evicted


def test_tag_overrides_at_run_time(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    remote.put_object(Bucket=b, Key="outside", Body=b"o", Tagging="s3d.cache=bypass")
    text = RULES.format(b=b, tb="none")
    with with_rules(remote_url, tmp_path / "d", text, tag_overrides=True) as daemon:
        s3 = client(daemon.endpoint_url)
        # Tagged outside s3d: the tag is looked up on read.
        assert [cached(s3, b, "outside") for _ in range(2)] == ["bypass", "bypass"]
        # Tagged through s3d: the write pins it at once, and a later tagging unpins it.
        s3.put_object(Bucket=b, Key="written", Body=b"w", Tagging="s3d.cache=pin")
        assert daemon.cache_stats()["pinned"] == 1
        # A private/ key tagged s3d.cache=cache is cached: the tag overrides the rule.
        s3.put_object(Bucket=b, Key="private/x", Body=b"x", Tagging="s3d.cache=cache")
        cached(s3, b, "private/x")
        assert cached(s3, b, "private/x") == "hit"
        unpin = {"TagSet": [{"Key": "s3d.cache", "Value": "cache"}]}
        s3.put_object_tagging(Bucket=b, Key="written", Tagging=unpin)
        assert daemon.cache_stats()["pinned"] == 0
