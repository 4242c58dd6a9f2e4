"""The tracing seam: ``trace(name, **attributes)`` opens a span, a no-op unless tracing is on.

Spans open at the edges (incoming request, remote call, journal job, FUSE operation,
catalogue import or export). Configuration follows the standard ``OTEL_*`` environment
variables; with no SDK configured, OpenTelemetry's API hands out non-recording spans.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace as otel_trace

_tracer = otel_trace.get_tracer("s3d")


@contextmanager
def trace(name: str, **attributes: str | int | float | bool) -> Iterator[None]:
    with _tracer.start_as_current_span(name, attributes=attributes):
        yield
