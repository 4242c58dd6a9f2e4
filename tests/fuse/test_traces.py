"""A file operation through the mount is a ``fuse <op>`` span, with the gateway's span inside
it (the SDK's in-memory exporter stands in for a collector, as in tests/tracing)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from s3d import telemetry


def test_a_read_through_the_mount_is_traced_to_the_gateway(make_mount: Any, remote: Any) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    fs = make_mount()
    fs.s3.head_bucket(Bucket=fs.bucket)
    # Written at the remote, so that the read goes beyond the cache: the gateway's span is
    # deferred and recorded only when something happens beneath it (a hit is one span).
    remote.put_object(Bucket=fs.bucket, Key="traced.txt", Body=b"traced")
    telemetry.install(tracer)
    try:
        assert (fs.point / "traced.txt").read_bytes() == b"traced"
    finally:
        telemetry.uninstall(tracer)
        provider.shutdown()
    spans = exporter.get_finished_spans()
    [read] = [s for s in spans if s.name == "fuse read"]
    inside = [s for s in spans if s.parent is not None and s.parent.span_id == read.context.span_id]
    assert [s.name for s in inside] == ["gateway GetObject"]
    [gateway] = inside
    under = [
        s for s in spans if s.parent is not None and s.parent.span_id == gateway.context.span_id
    ]
    assert [s.name for s in under] == ["cache get"]
    assert {"fuse lookup", "fuse open"} <= {s.name for s in spans}
