"""The tracer provider: built from the plan at start, installed into the seam, flushed at stop.

Spans end on the event loop and are only queued there (``BatchSpanProcessor``); the
processor's own thread hands each batch to the export process (``handoff``), which encodes and
sends it (with ``traces.export_process = false``, that thread encodes and sends), so a slow or
absent collector never blocks the loop nor fails a request (the exporter logs its failures; a
full queue drops spans). Stop
removes the tracer from the seam, then flushes what is queued in a worker thread: at most the
exporter's timeout (``OTEL_EXPORTER_OTLP_TIMEOUT``, 10 s) when the collector does not answer.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Self

from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    DEFAULT_OFF,
    DEFAULT_ON,
    ParentBasedTraceIdRatio,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import Tracer

from s3d import telemetry
from s3d.settings import ConfigError, TracesSettings
from s3d.tracing.choices import DEFAULT_SERVICE, TracePlan, plan
from s3d.tracing.handoff import Handoff, HandoffExporter
from s3d.version import version

log = logging.getLogger("s3d.tracing")


class Tracing:
    """Enter to start tracing as the settings and ``env`` ask (nothing when off); exit to
    stop and flush. Raises ConfigError at enter for an unusable configuration."""

    def __init__(self, settings: TracesSettings, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ) if env is None else {**os.environ, **env}
        self.plan = plan(settings, os.environ if env is None else env)
        self._provider: TracerProvider | None = None
        self._tracer: Tracer | None = None
        self._handoff: Handoff | None = None

    async def __aenter__(self) -> Self:
        chosen = self.plan
        if chosen.exporter == "none":
            return self
        sampler = _sampler(chosen)
        provider = TracerProvider(resource=_resource(chosen), sampler=sampler)
        if chosen.exporter == "otlp" and chosen.export_process:
            exporter_for(chosen)  # an unusable plan fails here, at start, not in the child
            scope = ("s3d", version())
            self._handoff = Handoff(chosen, provider.resource, scope, sampler, self._env)
            exporter: SpanExporter = HandoffExporter(self._handoff)
        else:
            exporter = exporter_for(chosen)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        self._provider = provider
        self._tracer = provider.get_tracer("s3d", version())
        telemetry.install(self._tracer, record_keys=chosen.record_keys, recorder=self._handoff)
        log.info("tracing on: %s exporter, %s sampler", chosen.exporter, chosen.sampler)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop tracing and flush the spans still queued (in a worker thread; cancelled, the
        flush goes on there). Idempotent."""
        provider, self._provider = self._provider, None
        if provider is None:
            return
        if self._tracer is not None:
            telemetry.uninstall(self._tracer)
        await asyncio.to_thread(self._shutdown, provider, self._handoff)

    @staticmethod
    def _shutdown(provider: TracerProvider, handoff: Handoff | None) -> None:
        provider.shutdown()  # the SDK spans still queued go down the pipe first
        if handoff is not None:
            handoff.close()


def _resource(chosen: TracePlan) -> Resource:
    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; ours win over them.
    attributes: dict[str, str] = {SERVICE_VERSION: version(), **chosen.attributes}
    if chosen.service_name is not None:
        attributes[SERVICE_NAME] = chosen.service_name
    resource = Resource.create(attributes)
    name = str(resource.attributes.get(SERVICE_NAME, ""))
    if name.startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE}))
    return resource


def _sampler(chosen: TracePlan) -> Sampler:
    fixed: dict[str, Sampler] = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "parentbased_always_on": DEFAULT_ON,
        "parentbased_always_off": DEFAULT_OFF,
    }
    if chosen.sampler == "traceidratio":
        return TraceIdRatioBased(chosen.ratio)
    if chosen.sampler == "parentbased_traceidratio":
        return ParentBasedTraceIdRatio(chosen.ratio)
    return fixed[chosen.sampler]


def exporter_for(chosen: TracePlan) -> SpanExporter:
    """The exporter ``chosen`` names (built in the daemon, or in the export process)."""
    if chosen.exporter == "console":
        return ConsoleSpanExporter()
    if chosen.protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError:
            raise ConfigError(
                "traces: the grpc protocol needs opentelemetry-exporter-otlp-proto-grpc, "
                "which is not installed; use http/protobuf"
            ) from None
        exporter: SpanExporter = GrpcExporter(endpoint=chosen.endpoint)
        return exporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=chosen.endpoint)
