"""``s3d status`` as text, from status documents of every shape."""

from __future__ import annotations

from s3d.cache.stats import CacheStats
from s3d.status_text import render_status

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


def test_sections_it_does_not_know_are_shown_as_they_are() -> None:
    document = {
        "version": 7,
        "journal": {"pending": 3, "dead_letters": ["a"], "oldest": None},
    }
    lines = lines_of(document)
    assert lines[:5] == ["daemon", "version: 7", "uptime: 0s", "endpoint: ?", "remote: ?"]
    assert lines[5:] == ["journal", "pending: 3", 'dead_letters: ["a"]', "oldest: None"]


def test_odd_values_do_not_break_it() -> None:
    document = {"uptime_seconds": "soon", "cache": {"bytes": "x", "max_size": 0, "hits": True}}
    lines = lines_of(document)
    assert "uptime: 0s" in lines
    assert "used: 0 B of 0 B" in lines  # no maximum: no percentage
    assert "hits: 0" in lines
