"""Logging set-up for the daemon: text or JSON lines on stderr.

Access-log records carry their fields as ``extra``; the JSON formatter emits them as keys.
Nothing here formats a header value or a credential: records only hold what callers put in.
The embedded remote (moto, in this process) logs a traceback of ~55 lines for every request it
fails with a 500, once per retry: its records keep one line (``OneLineFromRemote``), the
exception's type and first line, since s3d says itself what became of the request.
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


_REMOTE_LOGGERS = ("moto", "werkzeug", "flask")


class OneLineFromRemote(logging.Filter):
    """Records of the embedded remote's loggers lose their traceback: its type and first line
    join the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith(_REMOTE_LOGGERS):
            _, exc, _ = record.exc_info
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            record.msg = f"embedded remote: {record.getMessage()} ({type(exc).__name__}: {first})"
            record.args = None
            record.exc_info = record.exc_text = None
        return True


def configure_logging(settings: LogSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(OneLineFromRemote())
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
