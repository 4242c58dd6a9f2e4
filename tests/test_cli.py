"""The command line as a user runs it: real subprocesses of ``s3d``."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from s3d.cli import main
from s3d.config import options
from tests.support import (
    CountingRelay,
    DaemonProcess,
    Fault,
    client,
    free_port,
    make_tls_cert,
    write_config,
)

REPO = Path(__file__).resolve().parent.parent
SECRET = "Sup3rS3cretValue/xyz"


def s3d(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m s3d`` (the same entry point as the console script) and wait."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("S3D_")}
    full_env.update({"COLUMNS": "100"}, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "s3d", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def test_serve_help_lists_every_setting_with_its_default() -> None:
    result = s3d("serve", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "--config FILE" in text
    for option in options():
        # The option's own entry, not the usage line: its flag, then (before any other
        # option's default) its own default and environment variable.
        entry = (
            re.escape(f"{option.flag} ")
            + r"(?:(?!\(default:).)*"
            + re.escape(f"(default: {option.default_text}; env {option.env}")
        )
        assert re.search(entry, text), f"{option.key} is missing from serve --help"


def test_check_config_prints_the_effective_configuration(tmp_path: Path) -> None:
    config = tmp_path / "s3d.toml"
    config.write_text(
        '[server]\nport = 1000\nhost = "0.0.0.0"\n'
        f'[[server.access_keys]]\naccess_key_id = "AKIAIOSFODNN7EXAMPLE"\n'
        f'secret_access_key = "{SECRET}"\n'
    )
    result = s3d(
        "check-config",
        str(config),
        "--log-level",
        "debug",
        env={
            "S3D_SERVER_PORT": "2000",
            "S3D_REMOTE_SECRET_ACCESS_KEY": SECRET + "2",
            "S3D_REMOTE_ACCESS_KEY_ID": "AKIAREMOTE00000WXYZ",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert SECRET not in result.stdout
    shown = tomllib.loads(result.stdout)
    assert shown["server"]["port"] == 2000  # the environment beats the file
    assert shown["server"]["host"] == "0.0.0.0"  # no flag given: the file's value stays
    assert shown["log"]["level"] == "debug"  # the flag
    assert shown["server"]["access_keys"] == [
        {"access_key_id": "****MPLE", "secret_access_key": "****"}
    ]
    assert shown["remote"]["access_key_id"] == "****WXYZ"
    assert shown["remote"]["secret_access_key"] == "****"


def test_check_config_reads_s3d_config(tmp_path: Path) -> None:
    config = tmp_path / "s3d.toml"
    config.write_text("[server]\nport = 1234\n")
    result = s3d("check-config", env={"S3D_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout)["server"]["port"] == 1234


def test_check_config_on_a_bad_file_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "s3d.toml"
    config.write_text('[server]\nport = "abc"\n')
    result = s3d("check-config", str(config))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f's3d: {config}: server.port: expected an integer, got "abc"\n'


def test_check_config_hides_a_bad_secret(tmp_path: Path) -> None:
    result = s3d("check-config", "--access-key", SECRET)
    assert result.returncode == 2
    assert "flag --access-key" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_serve_refuses_a_bad_configuration_before_starting() -> None:
    result = s3d("serve", "--port", "70000")
    assert result.returncode == 2
    assert result.stderr == "s3d: flag --port: must be between 0 and 65535, got 70000\n"


def test_usage_errors_exit_2() -> None:
    result = s3d("bogus")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_version() -> None:
    result = s3d("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"s3d {metadata.version('s3d')}"


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "s3d"
    if not script.exists():
        pytest.skip("the project is not installed into this interpreter's environment")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout.startswith("s3d ")


def test_main_returns_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert main(["check-config", str(tmp_path / "missing.toml")]) == 2
    assert "configuration file not found" in capsys.readouterr().err
    assert main(["check-config", "--data-dir", str(tmp_path)]) == 0
    assert f'data_dir = "{tmp_path}"' in capsys.readouterr().out


def test_serve_runs_the_daemon_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3D_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "s3d", "serve", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not re.match(r"s3d is serving S3 at http://127\.0\.0\.1:\d+$", first.strip()):
            process.kill()
            _, stderr = process.communicate(timeout=30)
            pytest.fail(f"no banner: {first!r}\n{stderr}")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_reports_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = s3d("serve", "--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode == 1
    # Start-up logs may come first; the failure itself is one line of its own.
    failures = [line for line in result.stderr.splitlines() if line.startswith("s3d: ")]
    assert len(failures) == 1
    assert str(port) in failures[0]
    assert "Traceback" not in result.stderr


def test_readme_and_ci_run_the_same_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands[-1] == "make test"
    assert "make test" in readme
    assert "make run" in readme
    assert os.access(REPO / ".ci" / "run", os.X_OK)


# s3d status: a real `s3d status` process against a real `s3d serve` process.

LOCAL_KEY, LOCAL_SECRET = "S3DSTATUSTESTKEY0001", "status-test-secret/value"


def serve_config(
    tmp_path: Path,
    remote_url: str,
    *,
    journal: dict[str, object] | None = None,
    remote: dict[str, object] | None = None,
    **server: object,
) -> Path:
    """A configuration both `serve` and `status` read: a fixed port, the local key, the remote
    (with more ``remote`` settings), the ``journal`` settings given."""
    return write_config(
        tmp_path / "s3d.toml",
        {
            "": {"data_dir": str(tmp_path / "data")},
            "server": {
                "port": free_port(),
                "access_keys": [{"access_key_id": LOCAL_KEY, "secret_access_key": LOCAL_SECRET}],
                **server,
            },
            "remote": {
                "endpoint_url": remote_url,
                "access_key_id": "remote-key",
                "secret_access_key": "remote-secret",
                **(remote or {}),
            },
            "journal": journal or {},
            "log": {"level": "warning"},
        },
    )


def test_status_reads_the_serve_configuration(tmp_path: Path, remote_url: str) -> None:
    config = serve_config(tmp_path, remote_url)
    with DaemonProcess(["--config", str(config)]) as daemon:
        text = s3d("status", "--config", str(config))
        as_json = s3d("status", "--json", env={"S3D_CONFIG": str(config)})
        wrong = s3d("status", "--config", str(config), "--access-key", f"{LOCAL_KEY}:nope")
        other = s3d("status", "--endpoint", daemon.endpoint_url, "--access-key", "OTHERKEY:x")
    assert text.returncode == 0, text.stderr
    assert text.stderr == ""
    lines = [" ".join(line.split()) for line in text.stdout.splitlines()]
    assert lines[:5] == [
        "daemon",
        f"version: {metadata.version('s3d')}",
        lines[2],
        f"endpoint: {daemon.endpoint_url}",
        f"remote: {remote_url}",
    ]
    assert re.fullmatch(r"uptime: \d+s", lines[2])
    assert "cache" in lines
    assert "used: 0 B of 10 GiB (0.0%)" in lines
    assert "hit ratio: 0.0%" in lines
    assert {"hits: 0", "misses: 0", "revalidated: 0", "stale: 0", "bypass: 0"} <= set(lines)
    assert "evictions: 0 (0 B)" in lines
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["endpoint"] == daemon.endpoint_url
    assert document["cache"]["max_size"] == 10 * 1024**3
    assert wrong.returncode == 1
    assert wrong.stderr == (
        f"s3d: s3d at {daemon.endpoint_url} refused the request: SignatureDoesNotMatch (The "
        "request signature we calculated does not match the signature you provided. Check your "
        "key and signing method.)\n"
    )
    assert other.returncode == 1
    assert "InvalidAccessKeyId" in other.stderr
    for result in (text, as_json, wrong, other):
        assert LOCAL_SECRET not in result.stdout + result.stderr


def test_status_over_tls(tmp_path: Path, remote_url: str) -> None:
    cert, key = make_tls_cert(tmp_path / "tls")
    config = serve_config(tmp_path, remote_url, tls_cert_file=str(cert), tls_key_file=str(key))
    with DaemonProcess(["--config", str(config)]) as daemon:
        result = s3d("status", "--config", str(config), "--json")
    assert daemon.endpoint_url.startswith("https://127.0.0.1:")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["endpoint"] == daemon.endpoint_url


def test_status_signs_with_the_generated_key(tmp_path: Path, remote_url: str) -> None:
    port, data = str(free_port()), tmp_path / "data"
    remote = ["--remote", remote_url, "--remote-access-key-id", "k"]
    remote += ["--remote-secret-access-key", "s", "--log-level", "warning"]
    with DaemonProcess(["--port", port, "--data-dir", str(data), *remote]) as daemon:
        result = s3d("status", "--data-dir", str(data), env={"S3D_SERVER_PORT": port})
    assert (data / "local-credentials.json").exists()
    assert result.returncode == 0, result.stderr
    assert f"endpoint:     {daemon.endpoint_url}" in result.stdout
    assert daemon.secret_access_key not in result.stdout + result.stderr


def test_status_when_nothing_listens() -> None:
    port = free_port()
    result = s3d("status", "--port", str(port), "--access-key", f"{LOCAL_KEY}:{LOCAL_SECRET}")
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        result.stderr == f"s3d: no s3d answering at http://127.0.0.1:{port}: connection refused\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port", "0"), "s3d: server.port is 0 (any free port): give the daemon's address"),
        (("--endpoint", "ftp://host/"), "s3d: --endpoint: expected an http:// or https:// URL"),
        (("--cache-max-size", "huge"), "s3d: flag --cache-max-size: expected a byte size"),
        ((), "s3d: no access key: none is configured and "),
    ],
)
def test_status_configuration_errors_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = s3d("status", "--data-dir", str(tmp_path), *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert "\n" not in result.stderr.rstrip("\n")


# s3d flush and s3d journal: real processes against a real write-back `s3d serve`.

WRITE_BACK = {"mode": "write-back", "retry_base": 0.2, "retry_max": 1.0, "flush_on_stop": 0}


def local_s3(daemon: DaemonProcess):
    """boto3 through s3d, signed with the local key of ``serve_config``."""
    return client(daemon.endpoint_url, key=LOCAL_KEY, secret=LOCAL_SECRET)


def status_json(config: Path) -> dict[str, object]:
    result = s3d("status", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    journal = json.loads(result.stdout)["journal"]
    assert isinstance(journal, dict)
    return journal


def test_flush_waits_until_a_remote_back_from_an_outage_has_every_change(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there yet: the remote is down
    remote_url, bucket = f"http://127.0.0.1:{port}", f"flush-{uuid.uuid4().hex[:12]}"
    # A long backoff: once the remote is back, only the flush makes the uploads happen soon.
    journal = {"mode": "write-back", "retry_base": 30.0, "retry_max": 60.0, "flush_on_stop": 0}
    remote = {"connect_timeout": 1.0, "max_attempts": 1}
    config = serve_config(tmp_path, remote_url, journal=journal, remote=remote)
    with DaemonProcess(["--config", str(config)]) as daemon:
        s3 = local_s3(daemon)
        for i in range(3):
            s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"%d" % i * 1000)
        pending = s3d("flush", "--config", str(config), "--timeout", "2")
        shown = s3d("status", "--config", str(config))
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            moto = client(remote_url, key="remote-key", secret="remote-secret")
            moto.create_bucket(Bucket=bucket)
            started = time.monotonic()
            flushed = s3d("flush", "--config", str(config))
            took = time.monotonic() - started
            stored = [moto.get_object(Bucket=bucket, Key=f"k{i}")["Body"].read() for i in range(3)]
            after = status_json(config)
        finally:
            server.stop()
    assert pending.returncode == 1
    assert pending.stdout == ""
    lines = pending.stderr.splitlines()
    assert lines[0] == "flushing: 0 of 3 changes done, 0 B/2.9 KiB uploaded"  # not a terminal
    assert lines[-1] == "s3d: 3 changes (2.9 KiB) still pending after 2s"
    assert shown.returncode == 0, shown.stderr
    text = [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert text[text.index("journal") :][:5] == [
        "journal",
        "mode: write-back",
        "queue: 3 changes",
        text[text.index("journal") + 3],  # uploading: 0 to 3, as the retries come and go
        "pending: 2.9 KiB",
    ]
    assert "dead letters: 0" in text
    assert flushed.returncode == 0, flushed.stderr
    assert flushed.stdout == "flushed: 3 changes (2.9 KiB)\n", json.dumps(after)
    assert flushed.stderr.splitlines()[-1].startswith("flushing: 3 of 3 changes done")
    assert took < 12, "the flush waited for the backoff (at least 15s) instead of cutting it"
    assert stored == [b"%d" % i * 1000 for i in range(3)]
    assert (after["queue"], after["pending_bytes"], after["uploaded"]) == (0, 0, 3)


def test_flush_names_what_the_remote_refused_and_journal_acts_on_it(
    tmp_path: Path, remote_url: str
) -> None:
    bucket = f"refused-{uuid.uuid4().hex[:12]}"
    config = serve_config(tmp_path, remote_url, journal=WRITE_BACK)
    remote = client(remote_url, key="remote-key", secret="remote-secret")
    with DaemonProcess(["--config", str(config)]) as daemon:
        s3 = local_s3(daemon)
        s3.create_bucket(Bucket=bucket)  # s3d now knows the bucket exists...
        remote.delete_bucket(Bucket=bucket)  # ...but the remote no longer has it
        s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
        s3.put_object(Bucket=bucket, Key="b.txt", Body=b"b")
        refused = s3d("flush", "--config", str(config))
        dead = {d["key"]: d["id"] for d in status_json(config)["dead"]}  # type: ignore[attr-defined]
        shown = s3d("status", "--config", str(config))
        # Retried while the bucket is still missing: refused again.
        retried_all = s3d("journal", "retry", "--all", "--config", str(config))
        again = s3d("flush", "--config", str(config))
        refused_twice = status_json(config)
        remote.create_bucket(Bucket=bucket)
        retried_a = s3d("journal", "retry", str(dead["a.txt"]), "999999", "--config", str(config))
        only_b = s3d("flush", "--config", str(config))
        discarded = s3d("journal", "discard", "--all", "--config", str(config))
        clean = s3d("flush", "--config", str(config))
        journal = status_json(config)
    assert refused.returncode == 1
    assert refused.stdout == ""
    message = refused.stderr.splitlines()[-1]
    assert message.startswith(
        "s3d: what remains are dead letters: the remote refused 2 changes: id "
    )
    assert f"id {dead['a.txt']}: {bucket}/a.txt (put, 1 attempt): NoSuchBucket: " in message
    assert f"id {dead['b.txt']}: {bucket}/b.txt (put, 1 attempt): NoSuchBucket: " in message
    assert message.endswith("; see `s3d journal retry|discard`")
    assert shown.returncode == 0
    assert "dead letters: 2" in [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert (
        f"    id {dead['a.txt']}: {bucket}/a.txt (put, 1 attempt): NoSuchBucket: " in shown.stdout
    )
    assert (retried_all.returncode, retried_all.stdout) == (0, "retried 2 dead letters\n")
    assert again.returncode == 1
    assert "the remote refused 2 changes" in again.stderr
    assert (refused_twice["dead_letters"], refused_twice["dead_lettered"]) == (2, 4)
    assert (retried_a.returncode, retried_a.stdout) == (
        0,
        "retried 1 dead letter (1 id named no dead letter)\n",
    )
    assert only_b.returncode == 1
    assert only_b.stderr.splitlines()[-1].startswith(
        "s3d: what remains are dead letters: the remote refused 1 change: id "
    )
    assert f"{bucket}/b.txt" in only_b.stderr
    assert f"{bucket}/a.txt" not in only_b.stderr
    assert remote.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"a"
    assert (discarded.returncode, discarded.stdout) == (0, "discarded 1 dead letter\n")
    assert (clean.returncode, clean.stdout, clean.stderr) == (
        0,
        "nothing to flush: no change was pending\n",
        "",
    )
    assert (journal["queue"], journal["dead_letters"], journal["dead"]) == (0, 0, [])
    assert "Contents" not in remote.list_objects_v2(Bucket=bucket, Prefix="b.txt")


def test_flush_and_journal_on_a_write_through_daemon(tmp_path: Path, remote_url: str) -> None:
    config = serve_config(tmp_path, remote_url, journal={"mode": "write-through"})
    with DaemonProcess(["--config", str(config)]) as daemon:
        local_s3(daemon).create_bucket(Bucket=f"wt-{uuid.uuid4().hex[:12]}")
        flushed = s3d("flush", "--config", str(config), "--timeout", "5")
        retried = s3d("journal", "retry", "--all", "--config", str(config))
        shown = s3d("status", "--config", str(config))
    assert (flushed.returncode, flushed.stdout) == (0, "s3d runs write-through: nothing to flush\n")
    assert flushed.stderr == ""
    assert retried.returncode == 1
    assert retried.stderr.startswith(f"s3d: s3d at {daemon.endpoint_url} refused the request: ")
    assert "NoSuchAdminCommand (s3d runs write-through" in retried.stderr
    assert "mode: write-through" in [" ".join(line.split()) for line in shown.stdout.splitlines()]


@pytest.mark.parametrize(
    "command", [("flush",), ("journal", "retry", "--all"), ("journal", "discard", "1", "2")]
)
def test_flush_and_journal_when_nothing_listens(command: tuple[str, ...]) -> None:
    port = free_port()
    result = s3d(*command, "--port", str(port), "--access-key", f"{LOCAL_KEY}:{LOCAL_SECRET}")
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        result.stderr == f"s3d: no s3d answering at http://127.0.0.1:{port}: connection refused\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("journal", "retry"), "one of the arguments ID --all is required"),
        (("journal", "discard", "3", "--all"), "argument --all: not allowed with argument ID"),
        (("journal", "discard", "x"), "expected a dead letter's id (a number), got 'x'"),
        (("journal", "retry", "0"), "expected a dead letter's id (a number), got '0'"),
        (("flush", "--timeout", "soon"), "expected a number of seconds, got 'soon'"),
        (("journal",), "the following arguments are required: ACTION"),
    ],
)
def test_flush_and_journal_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = s3d(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_flush_returns_when_only_dead_letters_remain_and_discard_all_clears_them(
    tmp_path: Path, remote_url: str, relay: CountingRelay
) -> None:
    bucket = f"held-{uuid.uuid4().hex[:12]}"
    config = serve_config(tmp_path, relay.url, journal=WRITE_BACK)
    with DaemonProcess(["--config", str(config)]) as daemon:
        s3 = local_s3(daemon)
        s3.create_bucket(Bucket=bucket)
        # Every write of the key is refused for good (a refusal that nothing else makes moot:
        # a put refused NoSuchBucket and superseded is dropped, not dead-lettered).
        relay.inject(Fault("PUT", f"/{bucket}/a.txt", times=1000, status=403, code="AccessDenied"))
        # The first put is on its way when the second comes: the second waits behind it, and
        # once the first is refused, behind its dead letter, where no upload can reach it.
        relay.hold("PUT", f"/{bucket}/a.txt")
        s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
        wait_until(lambda: relay.count("PUT", f"/{bucket}/a.txt") == 1)
        s3.put_object(Bucket=bucket, Key="a.txt", Body=b"b")
        relay.hold("PUT", f"/{bucket}/a.txt", held=False)
        wait_until(lambda: status_json(config)["dead_letters"] == 1)
        held = s3d("flush", "--config", str(config))
        timed = s3d("flush", "--config", str(config), "--timeout", "30")
        scripted = s3d("flush", "--json", "--config", str(config))
        shown = s3d("status", "--config", str(config))
        discarded = s3d("journal", "discard", "--all", "--config", str(config))
        journal = status_json(config)
    assert held.returncode == 1
    last = held.stderr.splitlines()[-1]
    assert last.startswith("s3d: what remains are dead letters: the remote refused 1 change: id ")
    assert last.endswith(
        "; 1 later change of their keys wait behind them; see `s3d journal retry|discard`"
    )
    assert timed.returncode == 1
    assert timed.stderr.splitlines()[-1] == last
    assert scripted.returncode == 1
    outcome = json.loads(scripted.stdout)
    assert (outcome["outcome"], outcome["pending"], outcome["dead_letters"]) == (
        "dead-letters", 0, 1
    )  # fmt: skip
    assert outcome["held_by_dead_letters"] == 1
    assert outcome["dead"][0]["key"] == "a.txt"
    lines = [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert "held back: 1 change behind the dead letters" in lines
    # One run gives up the dead letter and the put the remote then refuses as well.
    assert (discarded.returncode, discarded.stdout) == (0, "discarded 2 dead letters\n")
    assert (journal["queue"], journal["dead_letters"], journal["held_by_dead_letters"]) == (0, 0, 0)


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


@pytest.mark.parametrize(
    "command",
    [
        ("status",),
        ("flush",),
        ("journal", "retry"),
        ("journal", "discard"),
        ("journal", "forget-uploads"),
        ("drs", "ls"),
        ("drs", "import"),
        ("check-config",),
    ],
)
def test_help_of_a_command_shows_what_it_takes_and_usage_errors_are_short(
    command: tuple[str, ...],
) -> None:
    shown = s3d(*command, "--help")
    wrong = s3d(*command, "--no-such-flag")
    assert shown.returncode == 0, shown.stderr
    assert len(shown.stdout.splitlines()) < 60, shown.stdout
    assert "--cache-max-size" not in shown.stdout  # a serve setting
    if command[0] != "check-config":
        assert "--config FILE" in shown.stdout
        assert "--port INT" in shown.stdout  # how to find the daemon
    assert wrong.returncode == 2
    assert len(wrong.stderr.splitlines()) < 8, wrong.stderr
    assert wrong.stderr.splitlines()[-1].startswith(("s3d: error: ", f"s3d {command[0]}"))


def test_serve_usage_errors_are_short() -> None:
    wrong = s3d("serve", "--port", "a", "--mode")
    assert wrong.returncode == 2
    assert len(wrong.stderr.splitlines()) < 5, wrong.stderr
    assert "--cache-max-size" not in wrong.stderr


def test_serve_without_moto_says_what_to_install(tmp_path: Path) -> None:
    # moto made unimportable in this process only: as in an image built without the extra.
    code = (
        "import sys; sys.modules['moto'] = sys.modules['moto.server'] = None; "
        "from s3d.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3D_")}
    result = subprocess.run(
        [sys.executable, "-c", code, "serve", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "s3d: no remote is configured (--remote URL), and the embedded remote used instead "
        "needs moto, which is not installed: install it with `pip install 's3d[embedded]'` "
        "(`make run` does), or give --remote"
    )
    assert "Traceback" not in result.stderr


def test_the_image_checks_its_own_liveness_and_leaves_moto_out() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "HEALTHCHECK" in dockerfile
    assert "/_s3d/health/live" in dockerfile.partition("HEALTHCHECK")[2]
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert any("'.[fuse]'" in line for line in installs), installs  # s3d with FUSE only
    assert not any("embedded" in line for line in installs), installs
    assert not any(d.startswith("moto") for d in project["dependencies"])
    assert project["optional-dependencies"]["embedded"] == ["moto[server]>=5.0"]
    makefile = (REPO / "Makefile").read_text()
    assert "-e '.[embedded]'" in makefile
