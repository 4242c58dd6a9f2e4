"""``s3d drs ls|get|import|export``: the DRS catalogue of a running daemon, through its admin
endpoint (``s3d/server/admin_drs.py``).

``ls`` pages through every record (id, size, name, where it is); ``get`` prints one record as
drs.index JSON; ``import`` and ``export`` run in the daemon, which reads and writes the buckets
with its remote credentials, and show how many records are done so far: redrawn in place on a
terminal, a line every few seconds elsewhere. ``import FILE`` passes the file's absolute path:
the daemon reads it, so it must see the same file system (as it does when the command runs in
the daemon's container). Progress goes to stderr (``s3d.cli.progress``): records listed or done
so far, their rate, and for ``ls`` the time left; its last line agrees with the final count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, urlencode

from s3d.cli.admin_client import AdminEndpoint, fetch, fetch_streamed
from s3d.cli.progress import Meter
from s3d.cli.status_text import human_bytes

PAGE = 1000
"""Records asked for at once by ``ls``: the daemon's largest page."""


def list_objects(
    endpoint: AdminEndpoint,
    out: TextIO,
    err: TextIO,
    *,
    as_json: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Print every record: a table, or one drs.index JSON line each; progress on ``err``.
    Returns how many. Raises AdminClientError, and BrokenPipeError when ``out`` is closed
    (``| head``: the caller ends quietly)."""
    catalogue = fetch(endpoint, "status").get("catalogue")
    total = catalogue.get("objects") if isinstance(catalogue, dict) else None
    meter = Meter(err, "listing", "record", clock)
    after, count = "", 0
    try:
        while True:
            page = fetch(endpoint, "drs/objects?" + urlencode({"after": after, "limit": PAGE}))
            for record in page.get("objects", []):
                out.write(json.dumps(record) + "\n" if as_json else _row(record))
                count += 1
            meter.update(count, _total(total, count))
            after = page.get("next") or ""
            if not after:
                break
    finally:
        meter.close(count, count if not after else _total(total, count))
    if not as_json:
        out.write(f"{count:,} DRS objects\n")
    out.flush()
    return count


def _total(total: object, count: int) -> float | None:
    """The catalogue's size when listing began (records added since join as they come)."""
    return max(float(total), count) if isinstance(total, int) else None


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
    verb = "imported" if action == "import" else "exported"
    meter = Meter(err, "importing" if action == "import" else "exporting", "record", clock)
    seen = [0]

    def progress(document: dict[str, Any]) -> None:
        seen[0] = int(document.get("records", 0))
        meter.update(seen[0])

    try:
        result = fetch_streamed(
            endpoint, f"drs/{action}?" + urlencode({name: location}), "POST", progress
        )
    except BaseException:
        meter.close(seen[0])
        raise
    records = int(result.get("records", 0))
    meter.close(records)
    size = f", {human_bytes(result['bytes'])}" if "bytes" in result else ""
    out.write(f"{verb} {records:,} DRS records ({location}{size})\n")
    return result
