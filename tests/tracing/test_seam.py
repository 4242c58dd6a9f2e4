"""The seam (``s3d/telemetry/``) and the provider's life, with the real SDK: the
in-memory exporter the SDK ships stands in for a collector here (the OTLP path is tested
end to end in test_spans.py)."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from s3d import telemetry
from s3d.protocol.errors import NoSuchKey
from s3d.settings import TracesSettings
from s3d.tracing.provider import Tracing


@pytest.fixture
def exported():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter, provider
    provider.shutdown()


def test_off_hands_out_one_shared_null_context() -> None:
    assert not telemetry.tracing()
    first = telemetry.trace("a", {"aws.s3.key": "k"})
    assert first is telemetry.trace("b", kind="server", headers={"traceparent": "x"})
    with first as span:
        assert span is telemetry.NULL_SPAN
        assert not span.is_recording()
    assert telemetry.acknowledging() is None


def test_keys_left_out_when_asked(exported) -> None:
    exporter, provider = exported
    tracer = provider.get_tracer("test")
    telemetry.install(tracer, record_keys=False)
    try:
        attributes = {"aws.s3.bucket": "b", "aws.s3.key": "secret/name", "url.path": "/b/x"}
        with telemetry.trace("t", attributes) as span:
            span.set_attribute("aws.s3.key", "secret/name")
            span.set_attribute("s3d.cache.result", "hit")
    finally:
        telemetry.uninstall(tracer)
    [done] = exporter.get_finished_spans()
    assert dict(done.attributes or {}) == {"aws.s3.bucket": "b", "s3d.cache.result": "hit"}


def test_failure_marks_the_span_without_its_message(exported) -> None:
    exporter, provider = exported
    tracer = provider.get_tracer("test")
    telemetry.install(tracer)
    try:
        with pytest.raises(NoSuchKey), telemetry.trace("t"):
            raise NoSuchKey("the message may quote anything")
    finally:
        telemetry.uninstall(tracer)
    [done] = exporter.get_finished_spans()
    assert done.status.status_code == StatusCode.ERROR
    assert not done.status.description
    assert dict(done.attributes or {}) == {"error.type": "NoSuchKey"}
    assert not done.events  # no exception event: no message, no traceback


def test_acknowledging_is_the_request_span(exported) -> None:
    exporter, provider = exported
    tracer = provider.get_tracer("test")
    telemetry.install(tracer)
    try:
        with telemetry.trace("request", kind="server", headers={}), telemetry.trace("inner"):
            ref = telemetry.acknowledging()
        with telemetry.trace("upload", root=True, links=(ref, None)):
            pass
    finally:
        telemetry.uninstall(tracer)
    _inner, request, upload = exporter.get_finished_spans()
    assert ref is not None
    assert (ref.trace_id, ref.span_id) == (request.context.trace_id, request.context.span_id)
    assert upload.parent is None
    assert [link.context.span_id for link in upload.links] == [request.context.span_id]


@pytest.fixture
def tracer(exported):
    exporter, provider = exported
    tracer = provider.get_tracer("test")
    telemetry.install(tracer, record_keys=False)
    yield exporter
    telemetry.uninstall(tracer)


def test_deferred_span_with_nothing_beneath_is_not_recorded(tracer) -> None:
    request = telemetry.trace("request", kind="server", headers={})
    with request, telemetry.deferred("gateway", {"aws.s3.bucket": "b"}) as gateway:
        with telemetry.deferred("cache") as cache:
            cache.set_attribute("s3d.cache.result", "hit")
        gateway.set_attribute("s3d.cache.result", "hit")
    assert [s.name for s in tracer.get_finished_spans()] == ["request"]


def test_a_span_inside_starts_the_deferred_chain(tracer) -> None:
    request = telemetry.trace("request", kind="server", headers={})
    attributes = {"aws.s3.bucket": "b", "aws.s3.key": "k"}
    with request, telemetry.deferred("gateway", attributes) as gateway:
        gateway.set_attribute("early", 1)
        with telemetry.deferred("cache"):
            with telemetry.trace("fill"), telemetry.trace("call", kind="client"):
                pass
            with telemetry.trace("second"):
                pass
        gateway.set_attribute("late", 2)
    spans = {s.name: s for s in tracer.get_finished_spans()}
    assert sorted(spans) == ["cache", "call", "fill", "gateway", "request", "second"]

    def parent(name: str) -> str:
        [found] = [n for n, s in spans.items() if s.context.span_id == spans[name].parent.span_id]
        return found

    assert [parent(n) for n in ("gateway", "cache", "fill", "call", "second")] == [
        "request", "gateway", "cache", "fill", "cache",
    ]  # fmt: skip
    assert len({s.context.trace_id for s in spans.values()}) == 1
    # Started with its block, not when the first span inside it opened; keys hidden.
    assert spans["gateway"].start_time <= spans["cache"].start_time <= spans["fill"].start_time
    assert spans["cache"].end_time >= spans["second"].end_time
    assert dict(spans["gateway"].attributes or {}) == {"aws.s3.bucket": "b", "early": 1, "late": 2}


def test_an_exception_records_the_deferred_span_as_failed(tracer) -> None:
    with pytest.raises(NoSuchKey), telemetry.deferred("gateway"):
        raise NoSuchKey("quoted")
    [done] = tracer.get_finished_spans()
    assert done.name == "gateway"
    assert done.status.status_code == StatusCode.ERROR
    assert dict(done.attributes or {}) == {"error.type": "NoSuchKey"}


async def test_started_after_its_block_a_deferred_span_ends_when_the_block_did(tracer) -> None:
    release = asyncio.Event()

    async def later() -> None:  # a background task the block spawned (a cache fill)
        await release.wait()
        with telemetry.trace("fill"):
            pass

    with telemetry.deferred("gateway"):
        task = asyncio.create_task(later())
    release.set()
    await task
    spans = {s.name: s for s in tracer.get_finished_spans()}
    assert spans["fill"].parent.span_id == spans["gateway"].context.span_id
    assert spans["gateway"].end_time <= spans["fill"].start_time


async def test_tracing_installs_at_enter_and_removes_at_exit() -> None:
    async with Tracing(TracesSettings(exporter="none"), {}):
        assert not telemetry.tracing()
    async with Tracing(TracesSettings(exporter="console"), {}):
        assert telemetry.tracing()
    assert not telemetry.tracing()
