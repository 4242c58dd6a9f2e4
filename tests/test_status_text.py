"""``s3d status`` as text, from status documents of every shape."""

from __future__ import annotations

from s3d.cache.stats import CacheStats
from s3d.cli.status_text import render_status

GiB = 1 << 30


def lines_of(document: dict[str, object]) -> list[str]:
    return [" ".join(line.split()) for line in render_status(document).splitlines()]


def test_a_busy_daemon() -> None:
    stats = CacheStats(
        entries=12345,
        bytes=GiB * 6 // 5,
        max_size=10 * GiB,
        hits=700,
        misses=100,
        revalidated=150,
        stale=50,
        bypass=3,
        evictions=12,
        evicted_bytes=340 * (1 << 20),
    )
    document = {
        "version": "1.2.3",
        "uptime_seconds": 2 * 86400 + 3 * 3600 + 4 * 60 + 5.9,
        "endpoint": "http://127.0.0.1:9333",
        "remote": "https://s3.eu-west-1.amazonaws.com",
        "cache": stats.as_dict(),
    }
    assert lines_of(document) == [
        "daemon",
        "version: 1.2.3",
        "uptime: 2d 3h 4m",
        "endpoint: http://127.0.0.1:9333",
        "remote: https://s3.eu-west-1.amazonaws.com",
        "cache",
        "entries: 12,345",
        "used: 1.2 GiB of 10 GiB (12.0%)",
        "hit ratio: 90.0%",
        "hits: 700",
        "misses: 100",
        "revalidated: 150",
        "stale: 50",
        "bypass: 3",
        "evictions: 12 (340 MiB)",
    ]


def test_short_uptimes_and_a_disabled_cache() -> None:
    document = {"uptime_seconds": 65, "cache": CacheStats(enabled=False).as_dict()}
    assert lines_of(document)[2] == "uptime: 1m 5s"
    assert lines_of(document)[-2:] == ["cache", "enabled: no"]
    assert lines_of({"uptime_seconds": 3600})[2] == "uptime: 1h 0m 0s"


def test_sections_it_does_not_know_are_shown_for_people() -> None:
    document = {
        "version": 7,
        "catalogue": {"pending": 3000, "dead_letters": ["a"], "oldest": None, "bytes": 2048},
        "remote_credentials": {"source": "env", "expiry": None, "buckets": {}, "ok": True},
        "more": {"nested": {"upload_bytes": 1536, "at": "x"}},
    }
    lines = lines_of(document)
    assert lines[:5] == ["daemon", "version: 7", "uptime: 0s", "endpoint: ?", "remote: ?"]
    assert lines[5:] == [
        "catalogue", "pending: 3,000", 'dead letters: ["a"]', "oldest: -", "bytes: 2 KiB",
        "remote credentials", "source: env", "expiry: -", "buckets: -", "ok: yes",
        "more", "nested:", "upload bytes: 1.5 KiB", "at: x",
    ]  # fmt: skip
    text = render_status(document)
    assert "None" not in text
    assert "{" not in text


def test_a_list_of_sections_is_numbered_not_printed_as_json() -> None:
    mount = {"source": "b/p", "read_only": False, "operations": {"read": 1200, "open": 3}}
    document = {"fuse": {"mounts": [mount, {"source": "c"}]}}
    assert lines_of(document)[5:] == [
        "fuse", "mounts 1:", "source: b/p", "read only: no", "operations:", "read: 1,200",
        "open: 3", "mounts 2:", "source: c",
    ]  # fmt: skip
    assert "{" not in render_status(document)


def test_odd_values_do_not_break_it() -> None:
    document = {"uptime_seconds": "soon", "cache": {"bytes": "x", "max_size": 0, "hits": True}}
    lines = lines_of(document)
    assert "uptime: 0s" in lines
    assert "used: 0 B of 0 B" in lines  # no maximum: no percentage
    assert "hits: 0" in lines


def test_a_write_back_journal_with_dead_letters() -> None:
    journal = {
        "mode": "write-back",
        "queue": 1234,
        "uploading": 8,
        "pending_bytes": 3 * GiB // 2,
        "oldest_pending_seconds": 3 * 3600 + 125.4,
        "uploads_in_progress": 2,
        "upload_bytes": 10 * 1024 * 1024,
        "oldest_upload_idle_seconds": 303.7,
        "uploads_expired": 1,
        "uploads_reclaimed": 2,
        "dead_letters": 3,
        "dead": [
            {"id": 17, "bucket": "b", "key": "dir/a.txt", "change": "put", "attempts": 1,
             "error": "NoSuchBucket: The specified bucket does not exist"},
            {"id": 20, "bucket": "b", "key": "gone", "change": "delete", "attempts": 2,
             "error": "AccessDenied: Access Denied"},
        ],
        "uploaded": 5000,
        "retried": 12,
        "dead_lettered": 3,
        "superseded": 1,
        "added_later": [1, 2],
    }  # fmt: skip
    lines = lines_of({"cache": CacheStats().as_dict(), "journal": journal})
    assert lines[lines.index("journal") :] == [
        "journal",
        "mode: write-back",
        "queue: 1,234 changes",
        "uploading: 8",
        "pending: 1.5 GiB",
        "oldest: 3h 2m 5s",
        "multipart: 2 uploads in progress (10 MiB, oldest idle 5m 3s)",
        "abandoned: 1 expired, 2 reclaimed",
        "dead letters: 3",
        "id 17: b/dir/a.txt (put, 1 attempt): NoSuchBucket: The specified bucket does not exist",
        "id 20: b/gone (delete, 2 attempts): AccessDenied: Access Denied",
        "… and 1 more",
        "since start: 5,000 uploaded, 12 retried, 3 dead-lettered, 1 superseded",
        "added later: [1, 2]",
    ]
    # The dead letters are indented under their row, as a list.
    assert "\n    id 17: b/dir/a.txt" in render_status({"journal": journal})


def test_an_idle_journal_and_a_write_through_daemon() -> None:
    idle = {"mode": "write-back", "queue": 0, "oldest_pending_seconds": 0.0}
    lines = lines_of({"journal": idle})
    assert "queue: 0 changes" in lines
    assert "oldest: -" in lines
    assert "dead letters: 0" in lines
    assert "multipart: 0 uploads in progress" in lines
    assert "abandoned: 0 expired, 0 reclaimed" in lines
    assert "since start: 0 uploaded, 0 retried, 0 dead-lettered, 0 superseded" in lines
    assert lines_of({"journal": {"mode": "write-through"}})[5:] == [
        "journal",
        "mode: write-through",
    ]


def test_odd_journal_values_do_not_break_it() -> None:
    journal = {"mode": "write-back", "queue": "many", "dead_letters": 1, "dead": "x"}
    lines = lines_of({"journal": journal})
    assert "queue: 0 changes" in lines
    assert "dead letters: 1" in lines
    assert "… and 1 more" in lines
    assert lines_of({"journal": {"dead": [{"id": 1}], "dead_letters": 1}})[-3:] == [
        "dead letters: 1",
        "id 1: ?/? (?, 0 attempts): ?",
        "since start: 0 uploaded, 0 retried, 0 dead-lettered, 0 superseded",
    ]
