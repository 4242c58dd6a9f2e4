"""The tracing seam: ``trace(name, **attributes)`` opens a span, a no-op unless tracing is on.

Spans open at the edges (incoming request, remote call, journal job, FUSE operation,
catalogue import or export). Configuration follows the standard ``OTEL_*`` environment
variables. Until a tracer provider is installed, ``trace`` hands out a shared null context:
even OpenTelemetry's non-recording spans cost tens of microseconds, on every request.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from opentelemetry import trace as otel_trace

_tracer = otel_trace.get_tracer("s3d")
_OFF: AbstractContextManager[None] = nullcontext()


def trace(name: str, **attributes: str | int | float | bool) -> AbstractContextManager[object]:
    if isinstance(otel_trace.get_tracer_provider(), otel_trace.ProxyTracerProvider):
        return _OFF
    return _tracer.start_as_current_span(name, attributes=attributes)
