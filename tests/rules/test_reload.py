"""Reloading the rules: a good file takes effect, a bad one keeps the rules in force and says
why; under load no request fails; SIGHUP does it for a real ``s3d serve`` process."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from botocore.exceptions import ClientError

from tests.rules.daemons import new_bucket, with_rules
from tests.support import DaemonProcess, client, free_port

REFUSE = "[write-queue]\nrefuse {b}/x*\n+ *\n"
ALLOW = "[write-queue]\n- {b}/x*\n+ *\n"
BROKEN = "[write-queue]\nrefuse {b}/x*[hdr:content-length<lots]\n"


def refused(s3, bucket: str, key: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
    else:
        return False
    if code != "AccessDenied":
        raise AssertionError(f"{key}: {code}")
    return True


def test_reload_takes_a_good_file_and_keeps_the_rules_for_a_bad_one(
    remote_url, remote, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    rules = tmp_path / "d.rules"
    with with_rules(remote_url, tmp_path / "d", REFUSE.format(b=b)) as daemon:
        s3 = client(daemon.endpoint_url)
        assert refused(s3, b, "x1")
        rules.write_text(ALLOW.format(b=b))
        assert daemon.call(daemon.daemon.reload_rules()) is None  # type: ignore[union-attr]
        assert not refused(s3, b, "x1")
        rules.write_text(BROKEN.format(b=b))
        problem = daemon.call(daemon.daemon.reload_rules())  # type: ignore[union-attr]
        assert problem.startswith(f"{rules}:2:")
        assert "expected a number of bytes" in problem
        assert not refused(s3, b, "x2")  # the rules in force stayed
        rules.unlink()
        assert "cannot read" in daemon.call(daemon.daemon.reload_rules())  # type: ignore[union-attr]
        assert not refused(s3, b, "x3")


def test_reload_under_load_fails_no_request(remote_url, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    rules = tmp_path / "d.rules"
    with with_rules(remote_url, tmp_path / "d", ALLOW.format(b=b), mode="write-back") as daemon:
        failures: list[BaseException] = []
        done = threading.Event()
        counts = [0, 0]

        def work(index: int) -> None:
            s3 = client(daemon.endpoint_url)
            while not done.is_set():
                try:
                    key = f"k{index}-{counts[index] % 5}"
                    s3.put_object(Bucket=b, Key=key, Body=b"v" * 100)
                    assert s3.get_object(Bucket=b, Key=key)["Body"].read() == b"v" * 100
                    counts[index] += 1
                except BaseException as exc:
                    failures.append(exc)
                    return

        workers = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for worker in workers:
            worker.start()
        texts = [ALLOW.format(b=b), REFUSE.format(b=b) + "[read-cache]\n- *\n"]
        for round_ in range(20):
            rules.write_text(texts[round_ % 2])
            assert daemon.call(daemon.daemon.reload_rules()) is None  # type: ignore[union-attr]
        done.set()
        for worker in workers:
            worker.join(60)
        assert failures == []
        assert min(counts) > 0


def test_sighup_reloads_a_serving_daemon(tmp_path: Path, remote_url: str, remote) -> None:  # type: ignore[no-untyped-def]
    b = new_bucket(remote)
    rules = tmp_path / "s.rules"
    rules.write_text(REFUSE.format(b=b))
    args = ["--port", str(free_port()), "--data-dir", str(tmp_path / "data"), "--remote",
            remote_url, "--remote-access-key-id", "k", "--remote-secret-access-key", "s",
            "--rules-files", str(rules), "--log-level", "info", "--mode",
            "write-through"]  # fmt: skip
    with DaemonProcess(args) as daemon:
        s3 = client(daemon.endpoint_url, key=daemon.access_key_id, secret=daemon.secret_access_key)
        assert refused(s3, b, "x1")
        rules.write_text(ALLOW.format(b=b))
        daemon.send_signal(signal.SIGHUP)
        daemon.wait_for_output("filter rules reloaded")
        assert not refused(s3, b, "x1")
        rules.write_text(BROKEN.format(b=b))
        daemon.send_signal(signal.SIGHUP)
        daemon.wait_for_output(f"the rules in force stay: {rules}:2:")
        assert not refused(s3, b, "x2")
        assert daemon.process.poll() is None


def test_s3d_rules_reload_asks_a_serving_daemon(tmp_path: Path, remote_url: str, remote) -> None:  # type: ignore[no-untyped-def]
    from tests.rules.test_cli import s3d

    b = new_bucket(remote)
    rules = tmp_path / "s.rules"
    rules.write_text(REFUSE.format(b=b))
    port = str(free_port())
    args = ["--port", port, "--data-dir", str(tmp_path / "data"), "--remote", remote_url,
            "--remote-access-key-id", "k", "--remote-secret-access-key", "s",
            "--rules-files", str(rules), "--mode", "write-through"]  # fmt: skip
    with DaemonProcess(args) as daemon:
        key = f"{daemon.access_key_id}:{daemon.secret_access_key}"
        ask = ["rules", "reload", "--endpoint", daemon.endpoint_url, "--access-key", key]
        s3 = client(daemon.endpoint_url, key=daemon.access_key_id, secret=daemon.secret_access_key)
        assert refused(s3, b, "x1")
        rules.write_text(ALLOW.format(b=b))
        done = s3d(*ask)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"rules reloaded: 2 from {rules}\n"
        assert not refused(s3, b, "x1")
        rules.write_text(BROKEN.format(b=b))
        bad = s3d(*ask)
        assert bad.returncode == 1
        assert "InvalidRules" in bad.stderr
        assert f"{rules}:2:" in bad.stderr
        assert not refused(s3, b, "x2")
