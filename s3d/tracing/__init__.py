"""OpenTelemetry traces for the daemon: the tracer provider behind ``s3d/telemetry/``.

``choices`` turns the ``[traces]`` settings and the standard ``OTEL_*`` variables into one
plan (pure); ``provider`` builds the SDK's provider from it, installs it into the seam at
start and flushes it at stop.
"""
