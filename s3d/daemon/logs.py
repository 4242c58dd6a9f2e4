"""Logging set-up for the daemon: text or JSON lines on stderr.

Access-log records carry their fields as ``extra``; the JSON formatter emits them as keys.
Nothing here formats a header value or a credential: records only hold what callers put in.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from s3d.settings import LogSettings

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                document[name] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure_logging(settings: LogSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level.upper())
    # botocore logs request details (headers included) and aiosqlite every statement with its
    # parameters at DEBUG: secrets would follow. Keep them quiet whatever the level.
    for noisy in ("botocore", "aiobotocore", "urllib3", "werkzeug", "moto", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
