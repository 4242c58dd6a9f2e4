"""``s3d status`` as text: the status document (``GET /_s3d/status``) for people.

The daemon section, then the cache (entries, bytes used of the maximum, hit ratio and the
counters), then the journal (its mode; in write-back mode the queue, the bytes pending, the age
of the oldest pending change, the local multipart uploads — how many, their bytes, the longest
idle — and those given up, the dead letters one per line, and the counters), then any other
section the document carries, shown key by key, so that a section (or a journal key) the daemon
adds later appears without a change here. Missing or odd values show as zero or
``?`` rather than failing: the document comes from a daemon that may be newer or older.
"""

from __future__ import annotations

import json
from typing import Any

_COUNTERS = ("hits", "misses", "revalidated", "stale", "bypass")
_JOURNAL_COUNTERS = {
    "uploaded": "uploaded",
    "retried": "retried",
    "dead_lettered": "dead-lettered",
    "superseded": "superseded",
}
_JOURNAL_SHOWN = {
    "mode", "queue", "uploading", "pending_bytes", "oldest_pending_seconds",
    "uploads_in_progress", "upload_bytes", "oldest_upload_idle_seconds", "uploads_expired",
    "uploads_reclaimed", "dead_letters", "dead", "held_by_dead_letters",
    "remote_uploads_to_abort", "remote_uploads", *_JOURNAL_COUNTERS,
}  # fmt: skip
_SECTIONS = ("cache", "journal")


def render_status(document: dict[str, Any]) -> str:
    """``GET /_s3d/status`` for people: the daemon, then the cache, then any other section
    the document has (shown as it is), one ``name: value`` per line."""
    lines = ["daemon"]
    lines += _rows(
        ("version", str(document.get("version", "?"))),
        ("uptime", _duration(_number(document.get("uptime_seconds")))),
        ("endpoint", str(document.get("endpoint", "?"))),
        ("remote", str(document.get("remote", "?"))),
    )
    cache = document.get("cache")
    if isinstance(cache, dict):
        lines += ["cache", *_cache_rows(cache)]
    journal = document.get("journal")
    if isinstance(journal, dict):
        lines += ["journal", *journal_rows(journal)]
    for name, section in document.items():
        if isinstance(section, dict) and name not in _SECTIONS:
            lines += [_label(name), *section_rows(section)]
    return "\n".join(lines) + "\n"


def section_rows(section: dict[str, Any], indent: int = 2) -> list[str]:
    """A section the daemon adds (credentials, catalogue…) key by key, for people: names
    with spaces, byte counts in units, numbers with separators, nothing as ``-``, a nested
    section indented under its name (a list of them numbered: ``mounts 1:``)."""
    lines = []
    width = max([14 - indent, *(len(str(name)) + 2 for name in section)])
    for name, value in section.items():
        if isinstance(value, dict) and value:
            lines += [f"{' ' * indent}{_label(str(name))}:", *section_rows(value, indent + 2)]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for number, item in enumerate(value, 1):  # each one a nested section (mounts)
                lines += [f"{' ' * indent}{_label(str(name))} {number}:"]
                lines += section_rows(item, indent + 2)
        else:
            shown = _value(str(name), value)
            lines.append(f"{' ' * indent}{_label(str(name)) + ':':<{width}}{shown}")
    return lines


def _label(name: str) -> str:
    return name.replace("_", " ")


def _value(name: str, value: object) -> str:
    if value is None or value == {} or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return human_bytes(value) if name == "bytes" or name.endswith("_bytes") else f"{value:,}"
    return _plain(value)


def _cache_rows(cache: dict[str, Any]) -> list[str]:
    if not cache.get("enabled", True):
        return _rows(("enabled", "no"))
    used, size = _number(cache.get("bytes")), _number(cache.get("max_size"))
    share = f" ({_percent(used / size)})" if size else ""
    evicted = _number(cache.get("evicted_bytes"))
    rows = [
        ("entries", f"{_number(cache.get('entries')):,.0f}"),
        ("used", f"{human_bytes(used)} of {human_bytes(size)}{share}"),
        ("hit ratio", _percent(_number(cache.get("hit_ratio")))),
        *((name, f"{_number(cache.get(name)):,.0f}") for name in _COUNTERS),
        ("evictions", f"{_number(cache.get('evictions')):,.0f} ({human_bytes(evicted)})"),
    ]
    return _rows(*rows)


def journal_rows(journal: dict[str, Any]) -> list[str]:
    """The journal section's lines: only the mode in write-through mode."""
    rows = [("mode", str(journal.get("mode", "?")))]
    if journal.get("mode") == "write-through":
        return _rows(*rows)
    queue = _number(journal.get("queue"))
    rows += [
        ("queue", counted(queue, "change")),
        ("uploading", f"{_number(journal.get('uploading')):,.0f}"),
        ("pending", human_bytes(_number(journal.get("pending_bytes")))),
        ("oldest", _duration(_number(journal.get("oldest_pending_seconds"))) if queue else "-"),
        ("multipart", multipart_text(journal)),
        ("abandoned", abandoned_text(journal)),
        ("dead letters", f"{_number(journal.get('dead_letters')):,.0f}"),
    ]
    lines = _rows(*rows) + dead_letter_lines(journal)
    held = _number(journal.get("held_by_dead_letters"))
    if held:
        lines += _rows(("held back", f"{counted(held, 'change')} behind the dead letters"))
    lines += remote_upload_lines(journal)
    counters = (f"{_number(journal.get(k)):,.0f} {name}" for k, name in _JOURNAL_COUNTERS.items())
    others = (
        (_label(str(k)), _value(str(k), v)) for k, v in journal.items() if k not in _JOURNAL_SHOWN
    )
    return lines + _rows(("since start", ", ".join(counters)), *others)


def multipart_text(journal: dict[str, Any]) -> str:
    """``2 uploads in progress (10 MiB, oldest idle 5m 3s)``: the local multipart uploads."""
    uploads = _number(journal.get("uploads_in_progress"))
    text = f"{counted(uploads, 'upload')} in progress"
    if not uploads:
        return text
    idle = _duration(_number(journal.get("oldest_upload_idle_seconds")))
    return f"{text} ({human_bytes(_number(journal.get('upload_bytes')))}, oldest idle {idle})"


def abandoned_text(journal: dict[str, Any]) -> str:
    """``1 expired, 2 reclaimed``: uploads given up since start (by age, for room)."""
    expired = _number(journal.get("uploads_expired"))
    reclaimed = _number(journal.get("uploads_reclaimed"))
    return f"{expired:,.0f} expired, {reclaimed:,.0f} reclaimed"


def dead_letter_lines(journal: dict[str, Any]) -> list[str]:
    """One line per dead letter the document lists, then how many more there are when it
    lists only the first ones."""
    listed = [d for d in journal.get("dead") or () if isinstance(d, dict)]
    lines = [f"    {dead_letter(d)}" for d in listed]
    more = int(_number(journal.get("dead_letters"))) - len(listed)
    return lines + ([f"    … and {more:,} more"] if more > 0 else [])


def remote_upload_lines(journal: dict[str, Any]) -> list[str]:
    """The multipart uploads left open on the remote that s3d keeps trying to abort, one a
    line; nothing when there are none."""
    count = _number(journal.get("remote_uploads_to_abort"))
    if not count:
        return []
    listed = [u for u in journal.get("remote_uploads") or () if isinstance(u, dict)]
    lines = _rows(("to abort", f"{counted(count, 'remote upload')} (`s3d journal forget-uploads`)"))
    lines += [f"    {u.get('upload_id')}: {u.get('bucket')}/{u.get('key')}" for u in listed]
    more = int(count) - len(listed)
    return lines + ([f"    … and {more:,} more"] if more > 0 else [])


def dead_letter(dead: dict[str, Any]) -> str:
    """``id 7: bucket/key (put, 3 attempts): NoSuchBucket: …``: a dead letter on one line."""
    attempts = counted(_number(dead.get("attempts")), "attempt")
    where = f"{dead.get('bucket', '?')}/{dead.get('key', '?')}"
    error = dead.get("error") or "?"
    return f"id {dead.get('id', '?')}: {where} ({dead.get('change', '?')}, {attempts}): {error}"


def counted(number: float, noun: str) -> str:
    """``1 change``, ``1,234 changes``: a number and its noun."""
    return f"{number:,.0f} {noun}{'' if number == 1 else 's'}"


def _rows(*rows: tuple[str, str]) -> list[str]:
    return [f"  {name + ':':<14}{value}" for name, value in rows]


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _plain(value: object) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


def human_bytes(size: float) -> str:
    """``1.5 GiB``, ``10 GiB``, ``512 B``: one decimal at most, for reading, not for parsing."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    power = 0
    while abs(size) >= 1024 and power < len(units) - 1:
        size /= 1024
        power += 1
    text = f"{size:.1f}".removesuffix(".0")
    return f"{text} {units[power]}"


def _duration(seconds: float) -> str:
    """``3d 4h 5m``, ``2h 3m 4s``, ``5m 6s``, ``7s``: the two or three largest units."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
