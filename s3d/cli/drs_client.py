"""``s3d drs ls|get|import|export``: the DRS catalogue of a running daemon, through its admin
endpoint (``s3d/server/admin_drs.py``).

``ls`` pages through every record (id, size, name, where it is); ``get`` prints one record as
drs.index JSON; ``import`` and ``export`` run in the daemon, which reads and writes the buckets
with its remote credentials, and show how many records are done so far: redrawn in place on a
terminal, a line every few seconds elsewhere. ``import FILE`` passes the file's absolute path:
the daemon reads it, so it must see the same file system (as it does when the command runs in
the daemon's container).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, urlencode

from s3d.cli.admin_client import AdminEndpoint, fetch, fetch_streamed
from s3d.cli.status_text import human_bytes

REPORT_EVERY = 5.0
"""Seconds between two progress lines when the output is not a terminal."""


def list_objects(endpoint: AdminEndpoint, out: TextIO, *, as_json: bool = False) -> int:
    """Print every record: a table, or one drs.index JSON line each. Returns how many."""
    after, count = "", 0
    while True:
        page = fetch(endpoint, "drs/objects?" + urlencode({"after": after, "limit": 1000}))
        for record in page.get("objects", []):
            out.write(json.dumps(record) + "\n" if as_json else _row(record))
            count += 1
        after = page.get("next") or ""
        if not after:
            break
    if not as_json:
        out.write(f"{count} DRS objects\n")
    return count


def _row(record: dict[str, Any]) -> str:
    methods = record.get("access_methods") or []
    urls = [m["access_url"]["url"] for m in methods if m.get("available", True) is not False]
    where = urls[0] if urls else "(no available access method)"
    more = f" (+{len(urls) - 1})" if len(urls) > 1 else ""
    return f"{record['id']}  {human_bytes(record.get('size', 0)):>10}  {where}{more}\n"


def get_object(endpoint: AdminEndpoint, object_id: str, out: TextIO) -> None:
    document = fetch(endpoint, "drs/object?id=" + quote(object_id, safe=""))
    out.write(json.dumps(document.get("object"), indent=2) + "\n")


def transfer(
    endpoint: AdminEndpoint,
    action: str,
    location: str,
    out: TextIO,
    err: TextIO,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """``import`` from or ``export`` to ``location``; prints the outcome. Raises
    AdminClientError."""
    if action == "import" and not location.startswith("s3://"):
        location = str(Path(location).resolve())
    name = "source" if action == "import" else "target"
    shown = Shown(err, clock)
    try:
        result = fetch_streamed(
            endpoint,
            f"drs/{action}?" + urlencode({name: location}),
            "POST",
            lambda progress: shown.records(progress.get("records", 0)),
        )
    finally:
        shown.close()
    verb = "imported" if action == "import" else "exported"
    size = f", {human_bytes(result['bytes'])}" if "bytes" in result else ""
    out.write(f"{verb} {result.get('records', 0)} DRS records ({location}{size})\n")
    return result


class Shown:
    """Records done so far, on ``stream``: one line redrawn on a terminal, else a line every
    ``REPORT_EVERY`` seconds."""

    def __init__(self, stream: TextIO, clock: Callable[[], float]) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._clock = clock
        self._last = clock()
        self._drawn = False

    def records(self, count: int) -> None:
        if self._tty:
            self._stream.write(f"\r{count:,} records")
            self._drawn = True
        elif self._clock() - self._last >= REPORT_EVERY:
            self._last = self._clock()
            self._stream.write(f"{count:,} records\n")
        self._stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._drawn = False
