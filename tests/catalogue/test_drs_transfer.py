"""drs.index between daemons and buckets: export from one s3d, bootstrap of a fresh one from the
bucket, `s3d drs import` of local files (100,000 records, bad files), and a bootstrap that
cannot read its bucket. Real daemons, a real moto remote, the real `s3d` command line."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from s3d.catalogue.index_format import (
    AccessMethod,
    DrsRecord,
    Header,
    drs_id,
    write_index,
)
from s3d.daemon.startup import StartupError
from s3d.settings import DrsSettings
from tests.catalogue.drs_schema import validate
from tests.support import (
    ACCESS_KEY,
    REMOTE_KEY,
    REMOTE_SECRET,
    SECRET_KEY,
    DaemonThread,
    client,
    daemon_settings,
    moto_process,
    send,
)

PROJECT = "round-trip"
BASIC = "Basic " + base64.b64encode(f"{ACCESS_KEY}:{SECRET_KEY}".encode()).decode()


def cli(daemon: DaemonThread, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``s3d`` command line against ``daemon``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3D_")}
    return subprocess.run(
        [
            sys.executable, "-m", "s3d", *args,
            "--endpoint", daemon.endpoint_url,
            "--access-key", f"{ACCESS_KEY}:{SECRET_KEY}",
        ],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def drs_get(daemon: DaemonThread, path: str) -> tuple[int, dict[str, object]]:
    status, _, raw = send(
        "GET", f"{daemon.endpoint_url}/ga4gh/drs/v1{path}", {"Authorization": BASIC}
    )
    return status, json.loads(raw)


def settle(daemon: DaemonThread) -> None:
    assert daemon.daemon is not None
    assert daemon.daemon.gateway is not None
    assert daemon.daemon.gateway.feed is not None
    daemon.call(daemon.daemon.gateway.feed.idle())


def with_drs(settings, **drs: object):
    return replace(settings, drs=DrsSettings(project=PROJECT, **drs))  # type: ignore[arg-type]


def test_export_then_a_fresh_daemon_bootstraps_from_the_bucket(
    remote_url: str, tmp_path: Path
) -> None:
    bucket = f"rt-{uuid.uuid4().hex[:12]}"
    objects = {f"data/{n}.bin": os.urandom(1000 + n) for n in range(5)}
    first = with_drs(daemon_settings(remote_url, tmp_path / "a", mode="write-back"))
    with DaemonThread(first) as a:
        s3 = client(a.endpoint_url)
        s3.create_bucket(Bucket=bucket)
        for key, data in objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=data)
        s3.delete_object(Bucket=bucket, Key="data/4.bin")  # exported as unavailable
        settle(a)
        exported = cli(a, "drs", "export", f"s3://{bucket}/drs.index")
        assert exported.returncode == 0, exported.stderr
        assert "exported 5 DRS records" in exported.stdout
        assert a.daemon is not None
        assert a.daemon.journal is not None
        assert a.call(a.daemon.journal.wait_idle(60))
        exported_bytes = s3.get_object(Bucket=bucket, Key="drs.index")["Body"].read()
        for secret in (SECRET_KEY, REMOTE_SECRET, REMOTE_KEY):
            assert secret.encode() not in exported_bytes

    # A fresh daemon, empty data directory, pointed at the bucket.
    second = with_drs(daemon_settings(remote_url, tmp_path / "b"), buckets=(bucket,))
    with DaemonThread(second) as b:
        for key, data in objects.items():
            object_id = drs_id(PROJECT, hashlib.sha256(data).hexdigest())
            status, document = drs_get(b, f"/objects/{object_id}")
            assert status == 200, document
            validate("DrsObject", document)
            assert document["size"] == len(data)
            methods = document.get("access_methods", [])
            if key == "data/4.bin":
                assert methods == []  # deleted before the export: known, not served
                continue
            [method] = methods  # type: ignore[misc]
            assert method["access_url"] == {"url": f"s3://{bucket}/{key}"}
            status, access = drs_get(b, f"/objects/{object_id}/access/{method['access_id']}")
            assert status == 200, access
            validate("AccessURL", access)
            got_status, _, got = send("GET", str(access["url"]), {})
            assert got_status == 200
            assert got == data
        status = cli(b, "status", "--json")
        assert status.returncode == 0, status.stderr
        catalogue = json.loads(status.stdout)["catalogue"]
        assert catalogue["objects"] == 5
        assert catalogue["available"] == 4
        assert catalogue["last_import"]["source"] == f"s3://{bucket}/drs.index"
        assert "catalogue" in cli(b, "status").stdout
        listed = cli(b, "drs", "ls")
        assert listed.returncode == 0, listed.stderr
        assert "5 DRS objects" in listed.stdout
        for key in list(objects)[:4]:
            assert f"s3://{bucket}/{key}" in listed.stdout
        lines = cli(b, "drs", "ls", "--json").stdout.splitlines()
        assert len(lines) == 5
        first_id = json.loads(lines[0])["id"]
        shown = cli(b, "drs", "get", first_id)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["id"] == first_id
        unknown = cli(b, "drs", "get", "no-such-id")
        assert unknown.returncode == 1
        assert "NoSuchDrsObject" in unknown.stderr


def _records(count: int, bucket: str) -> Iterator[DrsRecord]:
    for n in range(count):
        sha = hashlib.sha256(str(n).encode()).hexdigest()
        yield DrsRecord(
            id=drs_id(PROJECT, sha),
            size=n,
            created_time="2026-11-22T00:00:00Z",
            checksums=(("sha256", sha),),
            access_methods=(AccessMethod(f"s3-{n}", bucket, f"k/{n}"),),
            name=f"{n}.bin",
        )


def _index(path: Path, count: int, bucket: str = "imported") -> Path:
    header = Header("1.0", "1.4.0", "test", "2026-11-22T00:00:00Z", bucket, "git-drs-uuid5")
    with open(path, "wb") as file:
        write_index(file, header, _records(count, bucket))
    return path


@pytest.fixture(scope="module")
def daemon(remote_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonThread]:
    settings = with_drs(daemon_settings(remote_url, tmp_path_factory.mktemp("import")))
    with DaemonThread(settings) as running:
        yield running


def _total(daemon: DaemonThread) -> int:
    assert daemon.daemon is not None
    assert daemon.daemon.catalogue is not None
    return daemon.call(daemon.daemon.catalogue.totals()).objects


def test_importing_100000_records_from_a_file_then_again_changes_nothing(
    daemon: DaemonThread, tmp_path: Path
) -> None:
    path = _index(tmp_path / "drs.index", 100_000)
    before = _total(daemon)
    result = cli(daemon, "drs", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "imported 100,000 DRS records" in result.stdout
    # The last progress line (if any was due) agrees with the count.
    progress = [line for line in result.stderr.splitlines() if line.startswith("importing: ")]
    assert not progress or progress[-1].startswith("importing: 100,000 records done")
    assert _total(daemon) == before + 100_000
    sha = hashlib.sha256(b"99999").hexdigest()
    status, found = drs_get(daemon, f"/objects/checksum/{sha}")
    assert status == 200
    [document] = found["resolved_drs_object"]  # type: ignore[misc]
    validate("DrsObject", document)
    assert document["id"] == drs_id(PROJECT, sha)
    assert document["size"] == 99999
    again = cli(daemon, "drs", "import", str(path))
    assert again.returncode == 0, again.stderr
    assert _total(daemon) == before + 100_000  # upsert by id: idempotent


def test_drs_ls_into_head_ends_quietly_and_its_progress_agrees(
    daemon: DaemonThread, tmp_path: Path
) -> None:
    cli(daemon, "drs", "import", str(_index(tmp_path / "drs.index", 3000, "listed")))
    total = _total(daemon)
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3D_")}
    command = [
        sys.executable, "-m", "s3d", "drs", "ls", "--endpoint", daemon.endpoint_url,
        "--access-key", f"{ACCESS_KEY}:{SECRET_KEY}",
    ]  # fmt: skip
    shell = " ".join(f"'{part}'" for part in command) + " | head -n 3; echo ${PIPESTATUS[0]} >&2"
    piped = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    whole = cli(daemon, "drs", "ls")
    assert len(piped.stdout.splitlines()) == 3
    assert "Traceback" not in piped.stderr
    assert "BrokenPipeError" not in piped.stderr
    assert piped.stderr.splitlines()[-1] == "141"  # as a SIGPIPE ends ls or cat
    assert whole.returncode == 0, whole.stderr
    assert whole.stdout.splitlines()[-1] == f"{total:,} DRS objects"
    # Progress lines come every few seconds (none for a listing quicker than that); the last
    # one agrees with the count.
    progress = [line for line in whole.stderr.splitlines() if line.startswith("listing: ")]
    assert not progress or progress[-1].startswith(f"listing: {total:,} of {total:,} records")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "line"),
        (lambda text: text.replace('"format_version":"1.0"', '"format_version":"2.0"'), "2.0"),
        (lambda text: text.replace('"size":7,', '"size":8,'), "sha256 does not match"),
    ],
    ids=["truncated", "future-major-version", "altered"],
)
def test_a_bad_file_is_refused_naming_it_and_nothing_is_kept(
    daemon: DaemonThread, tmp_path: Path, damage, message: str
) -> None:
    path = _index(tmp_path / "bad.index", 20, bucket=f"bad-{uuid.uuid4().hex[:8]}")
    path.write_text(damage(path.read_text()))
    before = _total(daemon)
    result = cli(daemon, "drs", "import", str(path))
    assert result.returncode == 1
    assert "InvalidDrsIndex" in result.stderr
    assert str(path) in result.stderr
    assert message in result.stderr
    assert _total(daemon) == before


def test_import_of_a_missing_file_and_of_a_missing_object_say_so(
    daemon: DaemonThread, tmp_path: Path
) -> None:
    missing = cli(daemon, "drs", "import", str(tmp_path / "nope.index"))
    assert missing.returncode == 1
    assert "nope.index" in missing.stderr
    no_bucket = cli(daemon, "drs", "import", "s3://no-such-bucket-here/drs.index")
    assert no_bucket.returncode == 1
    assert "NoSuchBucket" in no_bucket.stderr


@pytest.fixture
def locked_remote() -> Iterator[str]:
    """A moto server that checks credentials (INITIAL_NO_AUTH_ACTION_COUNT=0): keys it does not
    know get 403 InvalidAccessKeyId, as from AWS with revoked credentials."""
    with moto_process({"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as url:
        yield url


def test_bootstrap_with_credentials_that_cannot_read_the_bucket_fails_at_once(
    locked_remote: str, tmp_path: Path
) -> None:
    settings = with_drs(daemon_settings(locked_remote, tmp_path), buckets=("team-data",))
    started = time.monotonic()
    with pytest.raises(StartupError) as caught, DaemonThread(settings):
        pass
    assert time.monotonic() - started < 20
    message = str(caught.value)
    assert "'team-data'" in message
    assert "s3d's configuration (remote.access_key_id)" in message
    assert "InvalidAccessKeyId" in message
    assert "remote-secret" not in message


def test_write_through_puts_register_too(daemon: DaemonThread) -> None:
    s3 = client(daemon.endpoint_url)
    bucket = f"wt-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(777)
    s3.put_object(Bucket=bucket, Key="x", Body=data)
    settle(daemon)
    status, document = drs_get(
        daemon, f"/objects/{drs_id(PROJECT, hashlib.sha256(data).hexdigest())}"
    )
    assert status == 200, document
    validate("DrsObject", document)


def test_the_daemon_exports_periodically_when_configured(remote_url: str, tmp_path: Path) -> None:
    bucket = f"pe-{uuid.uuid4().hex[:12]}"
    client(remote_url, key=REMOTE_KEY, secret=REMOTE_SECRET).create_bucket(Bucket=bucket)
    settings = with_drs(
        daemon_settings(remote_url, tmp_path),
        export_location=f"s3://{bucket}/drs.index.gz",
        export_interval=0.3,
    )
    with DaemonThread(settings) as running:
        s3 = client(running.endpoint_url)
        s3.put_object(Bucket=bucket, Key="obj", Body=b"periodic")
        deadline = time.monotonic() + 20
        text = b""
        while time.monotonic() < deadline:
            try:
                raw = s3.get_object(Bucket=bucket, Key="drs.index.gz")["Body"].read()
            except s3.exceptions.NoSuchKey:
                time.sleep(0.2)
                continue
            text = gzip.decompress(raw)
            if b"s3://" + bucket.encode() + b"/obj" in text:
                break
            time.sleep(0.2)
        assert b"s3://" + bucket.encode() + b"/obj" in text
        assert text.splitlines()[-1].startswith(b'{"type":"trailer"')


def test_s3d_serve_exits_1_with_the_bootstrap_error(locked_remote: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3D_", "AWS_"))}
    done = subprocess.run(
        [
            sys.executable, "-m", "s3d", "serve", "--port", "0", "--data-dir", str(tmp_path),
            "--remote", locked_remote, "--remote-access-key-id", "AKIAREVOKED0000000001",
            "--remote-secret-access-key", "revoked-secret-value", "--drs-buckets", "team-data",
        ],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "DRS bootstrap: cannot read bucket 'team-data'" in done.stderr
    assert "InvalidAccessKeyId" in done.stderr
    assert "Traceback" not in done.stderr
    assert "revoked-secret-value" not in done.stderr + done.stdout


def test_a_write_through_multipart_upload_is_hashed_by_reading_it_back(
    daemon: DaemonThread,
) -> None:
    s3 = client(daemon.endpoint_url)
    bucket = f"wtm-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(100)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    etags = [
        s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=n, Body=part)["ETag"]
        for n, part in enumerate(parts, start=1)
    ]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="m",
        UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(etags, 1)]},
    )
    settle(daemon)
    sha = hashlib.sha256(b"".join(parts)).hexdigest()
    status, found = drs_get(daemon, f"/objects/checksum/{sha}")
    assert status == 200, found
    [document] = found["resolved_drs_object"]  # type: ignore[misc]
    assert document["id"] == drs_id(PROJECT, sha)
