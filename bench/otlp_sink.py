"""A local OTLP/HTTP trace receiver: ``POST /v1/traces`` bodies decoded with
``opentelemetry-proto`` into plain spans.

The tracing benchmark runs it as a process (``python -m bench.otlp_sink``: prints
``receiving at http://127.0.0.1:PORT`` and, on ``GET /count``, the number of spans received);
the tracing tests run ``OtlpSink`` in a thread of their own and read every span it decoded.
Gzip bodies (``OTEL_EXPORTER_OTLP_COMPRESSION=gzip``) are accepted.
"""

from __future__ import annotations

import gzip
import signal
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

BANNER = "receiving at "


@dataclass(frozen=True, slots=True)
class Received:
    """One span as the receiver decoded it; ids as hex, as traceparent writes them."""

    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, object]
    links: tuple[tuple[str, str], ...]
    """(trace id, span id) of each link."""
    status: int
    resource: dict[str, object] = field(default_factory=dict)


def _value(value: AnyValue) -> object:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which) if which else None


def decode(body: bytes) -> list[Received]:
    request = ExportTraceServiceRequest.FromString(body)
    found = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                found.append(
                    Received(
                        name=span.name,
                        kind=span.kind,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                        attributes={kv.key: _value(kv.value) for kv in span.attributes},
                        links=tuple((ln.trace_id.hex(), ln.span_id.hex()) for ln in span.links),
                        status=span.status.code,
                        resource=resource,
                    )
                )
    return found


def count(body: bytes) -> int:
    """The number of spans in an export, without decoding them further."""
    request = ExportTraceServiceRequest.FromString(body)
    return sum(len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans)


class OtlpSink:
    """The receiver on a loopback port, serving from its own threads: enter to start."""

    def __init__(self, *, keep: bool = True) -> None:
        """``keep``: hold every decoded span (tests); else only count them (the benchmark)."""
        self.spans: list[Received] = []
        self.count = 0
        self.exports = 0
        self._keep = keep
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.spans)

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """The spans once at least ``count`` arrived, or what arrived by ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: self.count >= count, timeout)
            return list(self.spans)

    def _add(self, spans: list[Received]) -> None:
        with self._changed:
            self.spans += spans
            self._count(len(spans))

    def _count(self, received: int) -> None:
        with self._changed:
            self.count += received
            self.exports += 1
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self._answer(404, b"")
                    return
                if sink._keep:
                    sink._add(decode(body))
                else:  # counted only: the benchmark's receiver spends little of the machine
                    sink._count(count(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self._answer(200, answer, "application/x-protobuf")

            def do_GET(self) -> None:
                with sink._lock:
                    count = sink.count
                self._answer(200, str(count).encode(), "text/plain")

            def _answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: one line per export would drown the benchmark's output

        return Handler


def main() -> int:
    with OtlpSink(keep=False) as sink:
        print(f"{BANNER}{sink.url}", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
