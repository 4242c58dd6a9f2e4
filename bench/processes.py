"""Child processes of the benchmark: started, waited for, and always stopped.

``Children`` owns every process it started. Each child runs in its own session (so a Ctrl-C at
the terminal reaches only the harness, which then stops them in order) with stdout and stderr
in a log file in the work directory: a pipe nobody drains would stall a chatty server (moto
logs every request). Leaving ``Children`` sends SIGTERM to each process group, newest first,
and SIGKILL to any still there after a few seconds, whether the run ended, failed or was
interrupted; should the event loop die before that (a second Ctrl-C during the clean-up),
``kill_leftovers`` kills what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import aiohttp

STOP_GRACE = 5.0
START_TIMEOUT = 60.0


class StartError(RuntimeError):
    """A child exited or did not become ready in time; the message has its log's tail."""


@dataclass(slots=True)
class Child:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    def tail(self, lines: int = 20) -> str:
        """The last lines of the child's log, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port free on loopback right now (for servers that cannot report one they chose)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Children:
    """The benchmark's processes: ``start`` them, leave the context to stop them all."""

    def __init__(self, logs: Path) -> None:
        self._logs = logs
        self._children: list[Child] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Child:
        """Spawn ``argv`` (in ``cwd``, by default ours) with its output in
        ``<logs>/<name>.log``; does not wait for it."""
        log = self._logs / f"{name}.log"
        with log.open("wb") as out:  # the child keeps its own descriptor
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        _LIVE_GROUPS.add(process.pid)  # its own session: its group id is its pid
        child = Child(name, process, log)
        self._children.append(child)
        return child

    async def aclose(self) -> None:
        """Stop every child, newest first. Idempotent. Cancelling it does not cut it short:
        the stops finish, then ``CancelledError`` is raised."""
        cancelled = False
        while self._children:
            stopping = asyncio.ensure_future(_stop(self._children.pop().process))
            while not stopping.done():
                try:
                    await asyncio.shield(stopping)
                except asyncio.CancelledError:
                    cancelled = True
        if cancelled:
            raise asyncio.CancelledError


_LIVE_GROUPS: set[int] = set()
"""Process groups started and not yet stopped, for ``kill_leftovers``."""


def kill_leftovers() -> None:
    """SIGKILL every child group still alive: the last resort when the event loop died before
    ``Children`` could stop them (a second Ctrl-C during the clean-up)."""
    while _LIVE_GROUPS:
        _signal_group(_LIVE_GROUPS.pop(), signal.SIGKILL)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        _signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_GRACE)
    # SIGKILL the group even after a clean exit: a helper the child left behind goes too.
    _signal_group(process.pid, signal.SIGKILL)
    await process.wait()
    _LIVE_GROUPS.discard(process.pid)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def wait_for_line(child: Child, prefix: str) -> str:
    """The rest of the first line of the child's log that starts with ``prefix``."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        with contextlib.suppress(OSError):
            for line in child.log.read_text(errors="replace").splitlines():
                if line.startswith(prefix):
                    return line.removeprefix(prefix).strip()
        _check_alive(child, deadline, f"no line starting {prefix!r} after {START_TIMEOUT:g}s")
        await asyncio.sleep(0.05)


async def wait_for_http(child: Child, url: str) -> None:
    """Return once ``url`` answers any HTTP status (the server is listening and serving)."""
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                    await response.read()
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass
            _check_alive(child, deadline, f"{url} does not answer after {START_TIMEOUT:g}s")
            await asyncio.sleep(0.1)


def _check_alive(child: Child, deadline: float, waiting_for: str) -> None:
    code = child.process.returncode
    if code is not None:
        raise StartError(f"{child.name} exited with status {code}; its log ends:\n{child.tail()}")
    if time.monotonic() > deadline:
        raise StartError(f"{child.name}: {waiting_for}; its log ends:\n{child.tail()}")
