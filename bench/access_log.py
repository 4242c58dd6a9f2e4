"""s3d's own time per request, read back from its JSON access log after a run.

s3d run with ``--log-format json --log-level info`` writes one ``s3d.access`` line per request
with ``method``, ``path`` (``/bucket/key``, raw) and ``duration_ms``: from the request reaching
s3d's handler to the answer being ready. The client's latency minus this is what HTTP on
loopback, aiohttp's parsing and the client cost, which says where the time of a PUT goes.
"""

from __future__ import annotations

import json
from pathlib import Path

ACCESS_LOGGER = "s3d.access"
JSON_LOGS = ("--log-level", "info", "--log-format", "json")
"""s3d's flags for a log this module can read."""


def durations(log: Path, method: str) -> dict[str, float]:
    """Path → ``duration_ms`` of the last ``method`` request to it, from s3d's log."""
    found: dict[str, float] = {}
    for document in _documents(log):
        if document.get("logger") == ACCESS_LOGGER and document.get("method") == method:
            duration = document.get("duration_ms")
            if isinstance(duration, int | float):
                found[str(document.get("path"))] = float(duration)
    return found


def errors(log: Path) -> list[str]:
    """The messages of the error and critical records in s3d's log."""
    return [
        str(document.get("message"))
        for document in _documents(log)
        if document.get("level") in ("error", "critical")
    ]


def _documents(log: Path) -> list[dict[str, object]]:
    documents = []
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue  # the banner, or a traceback's continuation
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict):
            documents.append(document)
    return documents
