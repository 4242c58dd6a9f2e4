"""What every benchmark's ``main`` shares: a work directory, SIGTERM as cancellation, leftovers
killed and the directory cleaned whatever happens, and the exit status.

Exit status: what ``finish`` returns when the run completed; 1 when the harness failed (with
its traceback, and the servers' logs kept in the work directory); 130 when interrupted.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bench.processes import kill_leftovers

R = TypeVar("R")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_harness(
    prefix: str,
    work_dir: Path | None,
    benchmark: Callable[[Path], Awaitable[R]],
    finish: Callable[[R], int],
) -> int:
    """Run ``benchmark(work)`` in a fresh event loop inside a new temporary directory, then
    ``finish(result)`` once every process is stopped and the directory removed."""
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=work_dir))
    keep_logs = False
    try:
        result = asyncio.run(_cancelled_by_sigterm(benchmark(work)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("interrupted; every process the benchmark started has been stopped")
        return 130
    except Exception as exc:  # the harness failed: say what, and where the logs are
        keep_logs = True
        say(f"benchmark failed: {type(exc).__name__}: {exc}")
        say("".join(traceback.format_exception(exc)).rstrip())
        say(f"the servers' logs are kept in {work}")
        return 1
    finally:
        kill_leftovers()
        _clean(work, keep_logs=keep_logs)
    return finish(result)


async def _cancelled_by_sigterm(benchmark: Awaitable[R]) -> R:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await benchmark


def _clean(work: Path, *, keep_logs: bool) -> None:
    """Remove the objects and caches; the whole directory unless its logs are wanted."""
    if not keep_logs:
        shutil.rmtree(work, ignore_errors=True)
        return
    for path in work.iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
