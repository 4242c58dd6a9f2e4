"""Overload answers: 503 SlowDown with Retry-After rather than a hang or an internal error.

Two sources: a request on a connection opened beyond ``server.max_connections`` (marked by
``s3d/server/connection.py``), and a request that finds the process out of files or memory.
Both are transient; clients (the AWS SDKs, the CLI) retry SlowDown with backoff. At start the
open-file limit is fitted to the connection limit, so that the connection limit is reached
first.
"""

from __future__ import annotations

import errno
import logging
import resource

from aiohttp import web

from s3d.protocol.errors import S3Error, SlowDown
from s3d.server.admin import PREFIX as ADMIN_PREFIX
from s3d.server.connection import Connection

log = logging.getLogger("s3d.server")

OVERLOAD = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
"""The process or the system is out of files or memory: overload, not a fault."""
RETRY_AFTER = 1
"""Seconds a client refused for overload is told to wait."""


def check_admitted(request: web.Request) -> None:
    """Raise 503 SlowDown for a request on a connection opened beyond the connection limit;
    the ``/_s3d/`` endpoints (health, status, metrics) are answered all the same, so that an
    overloaded daemon can still be looked at."""
    if refused_connection(request) and not request.path.startswith(ADMIN_PREFIX):
        raise SlowDown(
            "Too many connections are open; retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER)},
        )


def refused_connection(request: web.Request) -> bool:
    protocol = request.protocol
    return isinstance(protocol, Connection) and protocol.over_limit


def overload_error(exc: BaseException) -> S3Error | None:
    """503 SlowDown for an exception that says the process ran out of files or memory (the
    client retries, as after any SlowDown); None for any other."""
    if isinstance(exc, OSError) and exc.errno in OVERLOAD:
        return SlowDown(
            "The server is out of resources; retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER)},
        )
    return None


RESERVE = 256
"""Files the daemon keeps open beside client connections: cache and journal files, SQLite,
the remote's connection pool, the embedded remote's."""


def fit_open_file_limit(max_connections: int) -> None:
    """Raise the soft open-file limit (RLIMIT_NOFILE) towards the hard one when
    ``max_connections`` and ``RESERVE`` do not fit under it, as systemd advises services that
    need many files to do; log a warning when even the hard limit is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + RESERVE
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    raised = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    if raised > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        log.info("raised the open-file limit from %d to %d", soft, raised)
    if raised < wanted:
        log.warning(
            "the open-file limit (%d) is below server.max_connections (%d) + %d for the "
            "daemon's own files: past it, connections wait to be accepted (raise LimitNOFILE "
            "or lower server.max_connections)",
            raised,
            max_connections,
            RESERVE,
        )
