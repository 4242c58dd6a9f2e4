"""``s3d serve --prompt-credentials`` on a terminal: with no credentials anywhere, s3d asks for
them (the secret without echo) and starts with them. A real `s3d serve` process on a
pseudo-terminal, a real moto remote; the answers are typed into the terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import isolate_aws_env

SECRET = "typed-secret-never-echoed"


def read_until(fd: int, text: str, seconds: float = 60.0) -> str:
    seen = ""
    deadline = time.monotonic() + seconds
    while text not in seen:
        assert time.monotonic() < deadline, f"no {text!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 4096).decode(errors="replace")
            except OSError:  # the other side closed
                break
    return seen


def test_the_terminal_is_asked_when_no_source_has_credentials(
    remote_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_aws_env(monkeypatch, tmp_path)
    audit = tmp_path / "audit.jsonl"
    master, slave = pty.openpty()
    args = [sys.executable, "-m", "s3d", "serve", "--port", "0", "--data-dir", str(tmp_path)]
    args += ["--remote", remote_url, "--prompt-credentials", "--log-level", "warning"]
    args += ["--remote-credentials-audit-file", str(audit)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3D_")}
    process = subprocess.Popen(
        args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    try:
        read_until(master, "remote access key id:")
        os.write(master, b"AKIAPROMPTED00004321\n")
        read_until(master, "remote secret access key:")
        os.write(master, SECRET.encode() + b"\n")
        read_until(master, "session token")
        os.write(master, b"\n")
        after = read_until(master, "s3d is serving S3 at")
        assert SECRET not in after  # typed without echo
    finally:
        process.terminate()
        process.wait(30)
        os.close(master)
    [line] = [line for line in audit.read_text().splitlines() if '"resolved"' in line]
    assert '"source": "prompt"' in line
    assert '"key_id_suffix": "4321"' in line
    assert SECRET not in audit.read_text()
