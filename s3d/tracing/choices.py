"""What the traces settings and the ``OTEL_*`` variables ask for, decided once at start.

Precedence, per value: the ``[traces]`` setting when set (file, ``S3D_TRACES_*`` or flag),
else its standard ``OTEL_*`` variable read as the OpenTelemetry SDK reads it, else the SDK's
default — except the exporter, whose default is ``none`` (tracing off) unless an OTLP endpoint
is named: a daemon nobody configured for tracing sends nothing anywhere. ``OTEL_SDK_DISABLED``
turns tracing off whatever else says. Pure: the environment is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args

from s3d.settings import ConfigError, TraceProtocol, TraceSampler, TracesSettings

SAMPLERS: tuple[str, ...] = get_args(TraceSampler)
PROTOCOLS: tuple[str, ...] = get_args(TraceProtocol)
DEFAULT_SAMPLER = "parentbased_always_on"
DEFAULT_SERVICE = "s3d"


@dataclass(frozen=True, slots=True)
class TracePlan:
    exporter: str
    """otlp, console or none."""
    endpoint: str | None
    """The full OTLP traces URL; None: the exporter reads its variables itself."""
    protocol: str
    sampler: str
    ratio: float
    service_name: str | None
    """None: OTEL_SERVICE_NAME or the resource attributes name it, else s3d."""
    attributes: Mapping[str, str]
    record_keys: bool
    export_process: bool = True


def plan(settings: TracesSettings, env: Mapping[str, str]) -> TracePlan:
    """The plan for ``settings`` under ``env``. Raises ConfigError for an unknown exporter,
    protocol or sampler, or a bad ratio, naming the variable."""
    protocol = _choice(
        settings.protocol,
        env,
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
        PROTOCOLS,
        "http/protobuf",
    )
    return TracePlan(
        exporter=_exporter(settings, env),
        endpoint=_endpoint(settings.endpoint, protocol),
        protocol=protocol,
        sampler=_choice(settings.sampler, env, ("OTEL_TRACES_SAMPLER",), SAMPLERS, DEFAULT_SAMPLER),
        ratio=_ratio(settings.sampler_ratio, env),
        service_name=settings.service_name or None,
        attributes=dict(_pair(item) for item in settings.resource_attributes),
        record_keys=settings.record_keys,
        export_process=settings.export_process,
    )


def _exporter(settings: TracesSettings, env: Mapping[str, str]) -> str:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return "none"
    if settings.exporter is not None:
        return settings.exporter
    named = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if named:
        # The SDK takes a list; s3d exports to one place: the first.
        first = named.split(",")[0].strip()
        if first not in ("otlp", "console", "none"):
            raise ConfigError(f"OTEL_TRACES_EXPORTER: expected otlp, console or none, not {first}")
        return first
    endpoints = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    return "otlp" if settings.endpoint or any(env.get(name) for name in endpoints) else "none"


def _endpoint(base: str, protocol: str) -> str | None:
    if not base:
        return None
    # As OTEL_EXPORTER_OTLP_ENDPOINT: the signal's path is added over HTTP, not for gRPC.
    return base if protocol == "grpc" else base.rstrip("/") + "/v1/traces"


def _choice(
    setting: str | None,
    env: Mapping[str, str],
    names: tuple[str, ...],
    allowed: tuple[str, ...],
    default: str,
) -> str:
    if setting is not None:
        return setting
    for name in names:
        value = env.get(name, "").strip().lower()
        if value:
            if value not in allowed:
                raise ConfigError(f"{name}: expected one of {', '.join(allowed)}, not {value}")
            return value
    return default


def _ratio(setting: float | None, env: Mapping[str, str]) -> float:
    if setting is not None:
        return setting
    text = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    if not text:
        return 1.0
    try:
        ratio = float(text)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"OTEL_TRACES_SAMPLER_ARG: expected a number from 0 to 1, not {text}")
    return ratio


def _pair(item: str) -> tuple[str, str]:
    name, equals, value = item.partition("=")
    if not equals or not name.strip():
        raise ConfigError(f"traces.resource_attributes: expected key=value, not {item!r}")
    return name.strip(), value.strip()
