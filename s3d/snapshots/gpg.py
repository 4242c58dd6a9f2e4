"""OpenPGP decryption while streaming: ``gpg`` as a subprocess, fed from the cache.

The ciphertext goes to gpg's stdin as it is read, the plaintext comes back from its stdout and
goes on to the response: nothing decrypted touches the disk. The passphrase reaches gpg on a
pipe of its own (``--passphrase-fd``), as the seed's service fed it, never on the command line
or in the environment. gpg runs with a home directory of s3d's (no user keyring, no agent
prompting: ``--batch --pinentry-mode loopback``).

gpg checks integrity (the MDC or AEAD tag) only at the end, after it has written most of the
plaintext. So the last chunk is held back until gpg has exited: only a clean exit lets it out.
A failure raises ``DecryptionFailed`` instead, and the HTTP adapter aborts the response — the
reader sees a broken transfer, never a complete-looking truncated or forged dump.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

_CHUNK = 1 << 20


class DecryptionFailed(Exception):
    """gpg refused the data: wrong passphrase, not OpenPGP, or the integrity check failed."""


@dataclass(frozen=True, slots=True)
class Gpg:
    program: str
    passphrase: bytes = field(repr=False)
    homedir: Path


async def decrypt(gpg: Gpg, source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Plaintext of ``source``, in chunks. Raises DecryptionFailed (possibly after chunks),
    OSError (gpg cannot run) and what reading ``source`` raises. Cancelled or abandoned, gpg
    is killed."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, gpg.passphrase + b"\n")
    finally:
        os.close(write_end)
    try:
        process = await asyncio.create_subprocess_exec(
            gpg.program, "--homedir", str(gpg.homedir), "--batch", "--quiet", "--no-tty",
            "--pinentry-mode", "loopback", "--passphrase-fd", str(read_end), "--decrypt",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, pass_fds=(read_end,),
        )  # fmt: skip
    finally:
        os.close(read_end)
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    feeder = asyncio.create_task(_feed(source, process.stdin))
    errors = asyncio.create_task(process.stderr.read())
    try:
        held = b""
        while data := await process.stdout.read(_CHUNK):
            if held:
                yield held
            held = data
        fed_error = await _outcome(feeder)
        code = await process.wait()
        if code != 0 or fed_error is not None:
            why = (await errors).decode(errors="replace").strip() or f"gpg exited {code}"
            raise DecryptionFailed(why) from fed_error
        if held:
            yield held
    finally:
        for task in (feeder, errors):
            task.cancel()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def _feed(source: AsyncIterator[bytes], stdin: asyncio.StreamWriter) -> None:
    try:
        async for data in source:
            stdin.write(data)
            await stdin.drain()
    finally:
        with contextlib.suppress(OSError):
            stdin.close()


async def _outcome(task: asyncio.Task[None]) -> BaseException | None:
    """The feeder's failure, if any (a broken pipe when gpg gave up early is gpg's to tell)."""
    try:
        await task
    except (BrokenPipeError, ConnectionResetError):
        return None
    except Exception as exc:
        return exc
    return None
