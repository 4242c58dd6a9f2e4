"""Stage times of a running s3d: a measuring aid for docs/performance.md, not part of s3d.

Put this directory first on the daemon's ``PYTHONPATH`` and name an output file in
``PERF_STAGE_TIMES``; Python imports this module at start-up, wraps the async methods of the
request stages below with a wall-clock timer, and rewrites the file every second with each
stage's call count, total and mean (``S3D_*`` variables are stripped by the benchmarks'
launchers, hence the other prefix)::

    PERF_STAGE_TIMES=/tmp/stages.txt PYTHONPATH=bench/stagetimes:. python -m s3d serve ...

Means include waiting for the event loop: on a busy machine they say where a request waits
as much as where it computes.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

STAGES = (
    ("s3d.server.handler", "S3Handler.__call__"),
    ("s3d.server.handler", "S3Handler._stage"),
    ("s3d.server.handler", "respond"),
    ("s3d.staging", "StagingWriter.finish"),
    ("s3d.staging", "StagingArea.discard"),
    ("s3d.gateway", "Gateway._execute"),
    ("s3d.journal.acks", "Acknowledgements.put"),
    ("s3d.journal.files", "JournalFiles.adopt"),
    ("s3d.journal.files", "JournalFiles.take_small"),
    ("s3d.journal.core", "JournalCore.record"),
    ("s3d.journal.store", "JournalStore.write"),
    ("s3d.cache.service", "ReadCache.get"),
    ("s3d.cache.service", "ReadCache.invalidate"),
    ("s3d.cache.lookup", "Lookups.current"),
    ("s3d.cache.lookup", "Lookups.discover"),
    ("s3d.cache.index", "CacheIndex.get"),
    ("s3d.cache.space", "Space.record"),
)
_stats: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])


def _wrap(module_name: str, qualified: str) -> None:
    owner: Any = importlib.import_module(module_name)
    *path, name = qualified.split(".")
    for part in path:
        owner = getattr(owner, part)
    function: Callable[..., Awaitable[Any]] = getattr(owner, name)

    @functools.wraps(function)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            stat = _stats[qualified]
            stat[0] += 1
            stat[1] += time.perf_counter() - start

    setattr(owner, name, timed)


def _dump(path: str) -> None:
    lines = [
        f"{stage:40s} n={int(n):7d} total={total:9.3f}s mean={total / n * 1000:8.3f}ms\n"
        for stage, (n, total) in sorted(_stats.items(), key=lambda item: -item[1][1])
    ]
    with open(path + ".tmp", "w") as out:
        out.writelines(lines)
    os.replace(path + ".tmp", path)


def _dump_every_second(path: str) -> None:
    while True:  # a daemon thread: the process may be killed, so no atexit
        time.sleep(1.0)
        if _stats:
            _dump(path)


def _install(path: str) -> None:
    for module_name, qualified in STAGES:
        try:
            _wrap(module_name, qualified)
        except (ImportError, AttributeError) as exc:  # a stage renamed since: say which
            print(f"stage times: cannot time {module_name}.{qualified}: {exc}", file=sys.stderr)
    threading.Thread(target=_dump_every_second, args=(path,), daemon=True).start()


if os.environ.get("PERF_STAGE_TIMES"):
    _install(os.environ["PERF_STAGE_TIMES"])
