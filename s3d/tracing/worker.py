"""The export process (``python -m s3d.tracing.worker``, started by ``handoff``): reads the
header and then batches of flattened spans from stdin, rebuilds them and exports them with
the OTLP exporter the plan names; at the end of its input, flushes and exits.

Its own SIGINT and SIGTERM are ignored: a Ctrl-C or a SIGTERM sent to the daemon's process
group must not lose the spans the daemon is about to hand over at stop; the end of the pipe
is what stops it.
"""

from __future__ import annotations

import logging
import signal
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from s3d.tracing.pipe import Header, read_message, rebuild
from s3d.tracing.provider import exporter_for


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="s3d tracing export: %(message)s")
    pipe = sys.stdin.buffer
    header = read_message(pipe)
    if not isinstance(header, Header):
        return 2
    exporter = exporter_for(header.plan)
    resource = Resource(header.resource)
    scope = InstrumentationScope(*header.scope)
    while (batch := read_message(pipe)) is not None:
        assert isinstance(batch, list)
        exporter.export([rebuild(flat, resource, scope) for flat in batch])
    exporter.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
