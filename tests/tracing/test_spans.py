"""Spans from a real daemon (``python -m s3d serve``, configured by the ``OTEL_*`` variables)
received by a real OTLP/HTTP receiver on loopback (``bench/otlp_sink.py``, decoding
``opentelemetry-proto``): the tree of a PUT, of a cached GET and of the background upload that
links to its PUT; the client's ``traceparent`` honoured; no secret in any attribute of a run
that used SSE-C with s3d's key, presigned URLs and remote credentials.

The daemon is stopped (SIGTERM) before the spans are read: what it queued is flushed at stop.
"""

from __future__ import annotations

import base64
import os
import signal
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bench.otlp_sink import OtlpSink, Received
from s3d import telemetry
from s3d.settings import TracesSettings
from tests.support import (
    ACCESS_KEY,
    REMOTE_KEY,
    REMOTE_SECRET,
    SECRET_KEY,
    DaemonProcess,
    DaemonThread,
    client,
    daemon_settings,
    free_port,
    write_config,
)

SERVER, CLIENT = 2, 3  # span kinds in OTLP
SSE_KEY = os.urandom(32)
SSE_KEY_B64 = base64.b64encode(SSE_KEY).decode()


@dataclass(frozen=True)
class Run:
    spans: list[Received]
    bucket: str
    put_trace: str
    put_parent: str
    get_trace: str
    presigned_url: str


def traceparent(trace_id: str, span_id: str) -> str:
    return f"00-{trace_id}-{span_id}-01"


def _with_traceparent(s3, operation: str, value: str) -> None:
    def add(request, **_: object) -> None:
        request.headers["traceparent"] = value

    s3.meta.events.register(f"request-created.s3.{operation}", add)


def _config(tmp_path: Path, remote_url: str) -> Path:
    key_file = tmp_path / "sse-c.key"
    key_file.write_text(SSE_KEY_B64 + "\n")
    return write_config(
        tmp_path / "s3d.toml",
        {
            "": {"data_dir": str(tmp_path / "data")},
            "server": {
                "port": 0,
                "access_keys": [{"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}],
            },
            "remote": {
                "endpoint_url": remote_url,
                "access_key_id": REMOTE_KEY,
                "secret_access_key": REMOTE_SECRET,
                "sse_customer_key_file": str(key_file),
                "max_attempts": 2,
            },
            "journal": {"mode": "write-back", "retry_base": 0.2},
            "cache": {"freshness": 3600},
        },
    )


@pytest.fixture(scope="module")
def run(remote_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One traced session: a PUT (its upload awaited), two GETs of it (hits) and one of an
    object written at the remote (a miss), a presigned GET; then stop."""
    tmp_path = tmp_path_factory.mktemp("traces")
    with OtlpSink() as sink:
        daemon = DaemonProcess(["--config", str(_config(tmp_path, remote_url))])
        daemon.env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=sink.url,
            OTEL_SERVICE_NAME="s3d-under-test",
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        with daemon:
            s3 = client(daemon.endpoint_url)
            bucket = f"traced-{uuid.uuid4().hex[:12]}"
            s3.create_bucket(Bucket=bucket)
            put_trace, put_parent = uuid.uuid4().hex, uuid.uuid4().hex[:16]
            _with_traceparent(s3, "PutObject", traceparent(put_trace, put_parent))
            s3.put_object(Bucket=bucket, Key="dir/object", Body=b"x" * 4096)
            _await_upload(sink)
            s3.get_object(Bucket=bucket, Key="dir/object")["Body"].read()  # handed over: a hit
            # Written at the remote behind s3d's back: its first GET through s3d is a miss.
            remote = client(remote_url, key=REMOTE_KEY, secret=REMOTE_SECRET)
            remote.put_object(
                Bucket=bucket, Key="dir/remote", Body=b"r" * 100,
                SSECustomerAlgorithm="AES256", SSECustomerKey=SSE_KEY,
            )  # fmt: skip
            assert s3.get_object(Bucket=bucket, Key="dir/remote")["Body"].read() == b"r" * 100
            get_trace = uuid.uuid4().hex
            _with_traceparent(s3, "GetObject", traceparent(get_trace, uuid.uuid4().hex[:16]))
            answer = s3.get_object(Bucket=bucket, Key="dir/object")
            assert answer["Body"].read() == b"x" * 4096
            assert answer["ResponseMetadata"]["HTTPHeaders"]["x-s3d-cache"] == "hit"
            presigner = client(daemon.endpoint_url, signature_version="s3v4")
            url = presigner.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": "dir/object"}, ExpiresIn=600
            )
            with urllib.request.urlopen(url, timeout=30) as presigned:
                assert presigned.read() == b"x" * 4096
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(60) == 0, daemon.stderr
        yield Run(sink.received(), bucket, put_trace, put_parent, get_trace, url)


def _await_upload(sink: OtlpSink) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(s.name == "journal upload" for s in sink.received()):
            return
        time.sleep(0.1)
    raise AssertionError("no upload span arrived")


def _one(spans: list[Received], **wanted: object) -> Received:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in wanted.items())]
    assert len(found) == 1, (wanted, [(s.name, s.trace_id) for s in spans])
    return found[0]


def _request_and_gateway(trace: list[Received], action: str) -> tuple[Received, Received]:
    """The request's span and the gateway's, its child, in one trace."""
    request = _one(trace, kind=SERVER)
    assert request.name == action
    gateway = _one(trace, name=f"gateway {action}")
    assert gateway.parent_id == request.span_id
    return request, gateway


def test_put_tree_honours_the_clients_traceparent(run: Run) -> None:
    trace = [s for s in run.spans if s.trace_id == run.put_trace]
    request, gateway = _request_and_gateway(trace, "PutObject")
    assert request.parent_id == run.put_parent  # the client's span is the parent
    assert request.attributes["http.request.method"] == "PUT"
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["url.path"] == f"/{run.bucket}/dir/object"
    assert request.attributes["aws.s3.bucket"] == run.bucket
    assert request.attributes["aws.s3.key"] == "dir/object"
    assert request.resource["service.name"] == "s3d-under-test"
    record = _one(trace, name="journal record")
    assert record.parent_id == gateway.span_id
    assert record.attributes["s3d.journal.state"] == "pending"
    # Write-back: the PUT itself never reaches the remote in its own trace; the only remote
    # calls there are the bucket's facts (versioning, lock, policy, encryption) learned at the
    # bucket's first write, which decide whether it may be acknowledged locally.
    remote_calls = [s.name for s in trace if s.kind == CLIENT]
    assert all(name.startswith("S3.GetBucket") for name in remote_calls), remote_calls


def test_upload_links_to_the_put_that_acknowledged_it(run: Run) -> None:
    request = _one(run.spans, trace_id=run.put_trace, kind=SERVER)
    upload = _one(run.spans, name="journal upload")
    assert upload.parent_id == ""  # a trace of its own
    assert upload.trace_id != run.put_trace
    assert upload.links == ((run.put_trace, request.span_id),)
    assert upload.attributes["s3d.journal.state"] == "uploaded"
    assert upload.attributes["aws.s3.key"] == "dir/object"
    calls = [s for s in run.spans if s.parent_id == upload.span_id and s.kind == CLIENT]
    assert [c.name for c in calls] == ["S3.PutObject"]
    assert calls[0].attributes["rpc.method"] == "PutObject"
    assert calls[0].attributes["rpc.system"] == "aws-api"
    assert calls[0].attributes["aws.s3.bucket"] == run.bucket


def test_cached_get_is_one_span(run: Run) -> None:
    # Nothing happens beneath a hit: the gateway's and the cache's deferred spans stay
    # unrecorded, and the request's span says what they would have.
    [request] = [s for s in run.spans if s.trace_id == run.get_trace]
    assert request.kind == SERVER
    assert request.name == "GetObject"
    assert request.parent_id != ""  # the client's traceparent
    assert request.attributes["s3d.cache.result"] == "hit"


def test_cache_miss_has_the_whole_tree(run: Run) -> None:
    [miss] = [
        s
        for s in run.spans
        if s.kind == SERVER and s.name == "GetObject" and s.attributes["s3d.cache.result"] != "hit"
    ]
    trace = [s for s in run.spans if s.trace_id == miss.trace_id]
    _request, gateway = _request_and_gateway(trace, "GetObject")
    cache = _one(trace, name="cache get")
    assert cache.parent_id == gateway.span_id
    assert cache.attributes["s3d.cache.result"] == miss.attributes["s3d.cache.result"]
    by_id = {s.span_id: s for s in trace}
    remote = [s for s in trace if s.kind == CLIENT]
    assert remote, [s.name for s in trace]
    for call in remote:  # every remote call hangs under the cache's span
        ancestor = call
        while ancestor.span_id != cache.span_id:
            ancestor = by_id[ancestor.parent_id]


def test_no_secret_in_any_span(run: Run) -> None:
    signature = run.presigned_url.split("X-Amz-Signature=")[1].split("&")[0]
    secrets = [
        SECRET_KEY,
        REMOTE_SECRET,
        SSE_KEY_B64,
        SSE_KEY.hex(),
        signature,
        "X-Amz-Signature",
        "X-Amz-Credential",
        "Signature=",
    ]
    assert len(run.spans) > 10
    gets = [s for s in run.spans if s.kind == SERVER and s.name == "GetObject"]
    assert len(gets) == 4  # the presigned GET among them, its query left out of url.path
    paths = sorted(s.attributes["url.path"] for s in gets)
    assert paths == [f"/{run.bucket}/dir/object"] * 3 + [f"/{run.bucket}/dir/remote"]
    for span in run.spans:
        texts = [span.name, *map(str, span.attributes.values()), *map(str, span.resource.values())]
        for text in texts:
            leaked = [secret for secret in secrets if secret in text]
            assert not leaked, (span.name, text)


def test_an_unreachable_collector_fails_no_request(
    remote_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "10")
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = daemon_settings(remote_url, tmp_path / "data", mode="write-back")
    settings = replace(settings, traces=TracesSettings(endpoint=nobody))
    with DaemonThread(settings) as daemon:
        assert telemetry.tracing()
        s3 = client(daemon.endpoint_url)
        bucket = f"untraced-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        for n in range(20):
            s3.put_object(Bucket=bucket, Key=f"k{n}", Body=b"y" * 100)
            assert s3.get_object(Bucket=bucket, Key=f"k{n}")["Body"].read() == b"y" * 100
    assert not telemetry.tracing()
