"""Run ceph/s3-tests (vendored in conformance/s3tests, see conformance/PIN) against moto alone
and against s3d in write-through and in write-back, each in front of a fresh moto.

    python conformance/run.py [--targets moto,write-through,write-back] [-k EXPR] [--out DIR]

Each target gets its own moto process and (for s3d) its own daemon process with a new data
directory, the suite's main, alt and tenant keys as local access keys and one remote key for
moto. Per target the suite's junit report is kept in ``--out``; at the end the passed and
failed counts of each target are printed, then the tests moto passes that an s3d target fails.
Nothing is fetched over the network: the suite and its dependencies are installed already.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGETS = ("moto", "write-through", "write-back")
KINDS = ("passed", "failed", "skipped")

# Features moto does not implement (or that need more than one daemon, a KMS, an IAM or STS
# service, a notification sink, a web site endpoint): deselected for every target alike.
EXCLUDED_MARKERS = (
    "lifecycle_expiration",
    "lifecycle_transition",
    "cloud_transition",
    "cloud_restore",
    "fails_without_logging_rollover",
    "bucket_logging",
    "bucket_logging_cleanup",
    "iam_account",
    "iam_cross_account",
    "iam_role",
    "iam_tenant",
    "iam_user",
    "group",
    "group_policy",
    "role_policy",
    "user_policy",
    "session_policy",
    "abac_test",
    "sns",
    "s3select",
    "s3website",
    "s3website_routing_rules",
    "s3website_redirect_location",
    "test_of_sts",
    "webidentity_test",
    "token_claims_trust_policy_test",
    "token_principal_tag_role_policy_test",
    "token_request_tag_trust_policy_test",
    "token_resource_tags_test",
    "token_role_tags_test",
    "token_tag_keys_test",
)

USERS = {
    "s3 main": ("0555b35654ad1656d804", "h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q=="),
    "s3 alt": ("NOPQRSTUVWXYZABCDEFG", "nopqrstuvwxyzabcdefghijklmnabcdefghijklm"),
    "s3 tenant": ("HIJKLMNOPQRSTUVWXYZA", "opqrstuvwxyzabcdefghijklmnopqrstuvwxyzab"),
}
REMOTE_KEY = ("conformance-remote-key", "conformance-remote-secret")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


@contextmanager
def started(args: list[str], port: int, log: Path, env: dict[str, str]) -> Iterator[None]:
    """A process started with ``args``, its output in ``log``, once it listens on ``port``;
    stopped (SIGTERM, then SIGKILL) on leaving."""
    with log.open("wb") as sink:
        process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for_port(port, process)
            yield
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def s3d_config(path: Path, port: int, remote: str, mode: str, data: Path) -> None:
    keys = "".join(
        f'[[server.access_keys]]\naccess_key_id = "{key}"\nsecret_access_key = "{secret}"\n'
        for key, secret in USERS.values()
    )
    path.write_text(
        f'data_dir = "{data}"\n'
        f'[server]\nhost = "127.0.0.1"\nport = {port}\nanonymous = "remote"\n'
        f'[remote]\nendpoint_url = "{remote}"\naccess_key_id = "{REMOTE_KEY[0]}"\n'
        f'secret_access_key = "{REMOTE_KEY[1]}"\n'
        f'[journal]\nmode = "{mode}"\n'
        f'[log]\nlevel = "warning"\n' + keys
    )


def suite_config(path: Path, port: int) -> None:
    """The s3tests.conf: the sample's users, the endpoint under test."""
    sections = [
        f"[DEFAULT]\nhost = 127.0.0.1\nport = {port}\nis_secure = False\nssl_verify = False\n",
        "[fixtures]\nbucket prefix = s3t-{random}-\n",
    ]
    for name, (key, secret) in USERS.items():
        user = name.split()[1]
        sections.append(
            f"[{name}]\ndisplay_name = {user}\nuser_id = {user}-id\nemail = {user}@example.com\n"
            f"access_key = {key}\nsecret_key = {secret}\n"
            + ("tenant = testx\n" if user == "tenant" else "")
        )
    for name in ("iam", "iam root", "iam alt root"):
        sections.append(
            f"[{name}]\nemail = x@example.com\nuser_id = RGW1\ndisplay_name = iam\n"
            "access_key = AAAAAAAAAAAAAAAAAAaa\nsecret_key = aaaaaaaaaaaaaaaaaaaa\n"
        )
    path.write_text("\n".join(sections))


def run_target(target: str, work: Path, out: Path, select: str | None) -> dict[str, str]:
    """Run the suite against ``target`` in front of a fresh moto; outcome by test id."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3D_"))}
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    moto_port = free_port()
    moto = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
    with started(moto, moto_port, out / f"{target}.moto.log", env):
        port = moto_port
        if target == "moto":
            return run_suite(target, port, work, out, select, env)
        port = free_port()
        config = work / f"{target}.toml"
        s3d_config(config, port, f"http://127.0.0.1:{moto_port}", target, work / target)
        s3d = [sys.executable, "-m", "s3d", "serve", "--config", str(config)]
        with started(s3d, port, out / f"{target}.s3d.log", env):
            return run_suite(target, port, work, out, select, env)


def run_suite(
    target: str, port: int, work: Path, out: Path, select: str | None, env: dict[str, str]
) -> dict[str, str]:
    conf = work / f"{target}.s3tests.conf"
    suite_config(conf, port)
    report = out / f"{target}.xml"
    args = [
        sys.executable, "-m", "pytest", str(HERE / "s3tests" / "functional" / "test_s3.py"),
        "-c", str(HERE / "pytest.ini"), "--rootdir", str(HERE), "-p", "no:cacheprovider",
        "-q", "--timeout", "120", "--junitxml", str(report),
        "-m", " and ".join(f"not {marker}" for marker in EXCLUDED_MARKERS),
    ]  # fmt: skip
    if select:
        args += ["-k", select]
    with (out / f"{target}.pytest.log").open("wb") as sink:
        subprocess.run(args, env={**env, "S3TEST_CONF": str(conf)}, stdout=sink, check=False)
    return outcomes(report)


def outcomes(report: Path) -> dict[str, str]:
    """passed, failed (failures and errors) or skipped, by test name, from a junit report."""
    result: dict[str, str] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            result[case.get("name", "")] = "failed"
        elif "skipped" in kinds:
            result[case.get("name", "")] = "skipped"
        else:
            result[case.get("name", "")] = "passed"
    return result


def counted(got: dict[str, str]) -> dict[str, int]:
    return {kind: sum(1 for v in got.values() if v == kind) for kind in KINDS}


def summary(results: dict[str, dict[str, str]]) -> str:
    """A table of counts per target, then the tests moto passes that each s3d target fails."""
    lines = [
        "| target | passed | failed | skipped | moto's passes lost | gained |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    moto = results.get("moto")
    lost_by: dict[str, list[str]] = {}
    for target, got in results.items():
        count = counted(got)
        lost = gained = "-"
        if moto is not None and target != "moto":
            passes = {t for t, v in got.items() if v == "passed"}
            moto_passes = {t for t, v in moto.items() if v == "passed"}
            lost_by[target] = sorted(moto_passes - passes)
            lost, gained = str(len(moto_passes - passes)), str(len(passes - moto_passes))
        cells = [target, *(str(count[kind]) for kind in KINDS), lost, gained]
        lines.append("| " + " | ".join(cells) + " |")
    for target, lost_tests in lost_by.items():
        lines.append(f"\nmoto passes, {target} fails ({len(lost_tests)}):")
        lines += [f"  {name}" for name in lost_tests]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("-k", dest="select", default=None, help="pytest -k expression")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--reuse",
        type=Path,
        action="append",
        default=[],
        help="a directory of earlier reports: a target whose <target>.xml is there is not run",
    )
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="s3d-conformance-") as work:
        for target in options.targets.split(","):
            if target not in TARGETS:
                parser.error(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
            earlier = [d / f"{target}.xml" for d in options.reuse if (d / f"{target}.xml").exists()]
            if earlier:
                results[target] = outcomes(earlier[-1])
                continue
            started_at = time.monotonic()
            results[target] = run_target(target, Path(work), options.out, options.select)
            print(f"{target}: {time.monotonic() - started_at:.0f} s", file=sys.stderr)
    (options.out / "outcomes.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    text = summary(results)
    (options.out / "summary.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
