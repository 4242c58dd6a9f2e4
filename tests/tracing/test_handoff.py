"""The export process: spans handed over a pipe arrive at a real OTLP/HTTP receiver as the
in-thread exporter would send them, are flushed at stop, and a dead export process costs
spans only, never an error in the daemon."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from bench.otlp_sink import OtlpSink
from s3d import telemetry
from s3d.protocol.errors import NoSuchKey
from s3d.settings import TracesSettings
from s3d.tracing.choices import plan
from s3d.tracing.handoff import Handoff, HandoffExporter
from s3d.tracing.pipe import flatten, rebuild
from s3d.tracing.provider import Tracing


def _finished_spans() -> tuple[list[ReadableSpan], Resource, InstrumentationScope]:
    exporter = InMemorySpanExporter()
    resource = Resource({"service.name": "handoff-test"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("s3d", "1.2.3")
    telemetry.install(tracer)
    try:
        with telemetry.trace("request", {"http.request.method": "GET"}, kind="server", headers={}):
            ref = telemetry.acknowledging()
            with pytest.raises(NoSuchKey), telemetry.deferred("gateway", {"aws.s3.key": "k"}):
                raise NoSuchKey("gone")
        attributes = {"n": 3, "ratio": 0.5, "flag": True}
        with telemetry.trace("upload", attributes, root=True, links=(ref,), kind="client"):
            pass
    finally:
        telemetry.uninstall(tracer)
    spans = list(exporter.get_finished_spans())
    scope = spans[0].instrumentation_scope
    assert scope is not None
    return spans, resource, scope


def test_a_rebuilt_span_encodes_to_the_same_otlp_bytes() -> None:
    spans, resource, scope = _finished_spans()
    assert len(spans) == 3
    rebuilt = [rebuild(flatten(span), resource, scope) for span in spans]
    assert encode_spans(rebuilt).SerializeToString() == encode_spans(spans).SerializeToString()


@pytest.mark.parametrize("in_process", [False, True], ids=["export process", "in the daemon"])
async def test_spans_reach_the_receiver_and_are_flushed_at_stop(in_process: bool) -> None:
    with OtlpSink() as sink:
        settings = TracesSettings(endpoint=sink.url, export_process=not in_process)
        env = {"OTEL_BSP_SCHEDULE_DELAY": "60000"}  # nothing leaves before the stop's flush
        async with Tracing(settings, env):
            for n in range(50):
                with telemetry.trace(f"span {n}", {"aws.s3.key": f"k{n}"}, kind="server"):
                    pass
            assert sink.received() == []
        received = sink.received()
    assert sorted(s.name for s in received) == sorted(f"span {n}" for n in range(50))
    assert {s.resource["service.name"] for s in received} == {"s3d"}
    assert received[0].attributes["aws.s3.key"].startswith("k")


async def test_a_dead_export_process_drops_spans_and_fails_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chosen = plan(TracesSettings(endpoint="http://127.0.0.1:9"), {})
    handoff = Handoff(chosen, Resource({}), ("s3d", None), ALWAYS_ON, dict(os.environ))
    exporter = HandoffExporter(handoff)
    spans, _resource, _scope = _finished_spans()
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    handoff._child.kill()  # the export process killed under the daemon
    await asyncio.to_thread(handoff._child.wait)
    with caplog.at_level(logging.WARNING, "s3d.tracing"):
        results = [exporter.export(spans) for _ in range(3)]
    assert results == [SpanExportResult.FAILURE] * 3
    assert ["export process ended" in r.message for r in caplog.records] == [True]  # once
    handoff.close()  # on a dead child: no error


def _traceparent(trace_id: str, sampled: bool) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-{'b7ad6b7169203331'}-{'01' if sampled else '00'}"}


def _failing_request(headers: dict[str, str]) -> None:
    with telemetry.trace("GET", {"url.path": "/b/k"}, kind="server", headers=headers) as span:
        span.update_name("GetObject")
        with telemetry.deferred("gateway GetObject"), telemetry.trace("cache fill"):
            pass
        span.set_attribute("http.response.status_code", 404)
        raise NoSuchKey("gone")


async def test_request_spans_as_light_spans() -> None:
    """Server spans skip the SDK's span object but arrive as the SDK would send them:
    the client's traceparent as parent, renamed, attributes set late, an error status, the
    SDK spans opened inside as children; an unsampled client trace records nothing."""
    followed, ignored = "0af7651916cd43dd8448eb211c80319c", "1af7651916cd43dd8448eb211c80319c"
    with OtlpSink() as sink:
        settings = TracesSettings(endpoint=sink.url, sampler="parentbased_always_on")
        async with Tracing(settings, {"OTEL_BSP_SCHEDULE_DELAY": "50"}):
            with pytest.raises(NoSuchKey):
                _failing_request(_traceparent(followed, True))
            unsampled = telemetry.trace("PUT", kind="server", headers=_traceparent(ignored, False))
            with unsampled, telemetry.trace("journal record"):
                pass
        received = sink.received()
    by_name = {s.name: s for s in received}
    assert sorted(by_name) == ["GetObject", "cache fill", "gateway GetObject"]
    server = by_name["GetObject"]
    assert server.kind == 2  # SERVER
    assert (server.trace_id, server.parent_id) == (followed, "b7ad6b7169203331")
    assert server.attributes == {
        "url.path": "/b/k", "http.response.status_code": 404, "error.type": "NoSuchKey",
    }  # fmt: skip
    assert server.status == 2  # ERROR
    assert by_name["gateway GetObject"].parent_id == server.span_id
    assert by_name["cache fill"].parent_id == by_name["gateway GetObject"].span_id
    assert {s.trace_id for s in received} == {followed}
