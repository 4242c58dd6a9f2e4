"""The traces plan: ``[traces]`` settings first, then the standard ``OTEL_*`` variables, then
the SDK's defaults — except the exporter, off unless asked for."""

from __future__ import annotations

import pytest

from s3d.settings import ConfigError, TracesSettings
from s3d.tracing.choices import plan


def test_nothing_configured_is_off() -> None:
    chosen = plan(TracesSettings(), {})
    assert chosen.exporter == "none"
    assert (chosen.sampler, chosen.ratio, chosen.protocol) == (
        "parentbased_always_on",
        1.0,
        "http/protobuf",
    )
    assert chosen.record_keys is True


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"},
        {"OTEL_TRACES_EXPORTER": "otlp"},
    ],
)
def test_an_otlp_endpoint_or_exporter_variable_turns_it_on(env: dict[str, str]) -> None:
    chosen = plan(TracesSettings(), env)
    assert chosen.exporter == "otlp"
    assert chosen.endpoint is None  # the exporter reads its own variables, as the SDK does


def test_settings_win_over_the_variables() -> None:
    env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_TRACES_SAMPLER": "always_off",
        "OTEL_TRACES_SAMPLER_ARG": "0.5",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    }
    settings = TracesSettings(
        exporter="console",
        sampler="traceidratio",
        sampler_ratio=0.25,
        protocol="http/protobuf",
        endpoint="http://collector:4318/",
    )
    chosen = plan(settings, env)
    assert (chosen.exporter, chosen.sampler, chosen.ratio) == ("console", "traceidratio", 0.25)
    assert chosen.endpoint == "http://collector:4318/v1/traces"
    assert plan(TracesSettings(), env).sampler == "always_off"
    assert plan(TracesSettings(), env).ratio == 0.5


def test_grpc_endpoint_is_taken_as_given() -> None:
    settings = TracesSettings(endpoint="http://collector:4317", protocol="grpc")
    assert plan(settings, {}).endpoint == "http://collector:4317"


def test_sdk_disabled_wins() -> None:
    settings = TracesSettings(exporter="otlp")
    assert plan(settings, {"OTEL_SDK_DISABLED": "true"}).exporter == "none"


def test_first_of_a_list_of_exporters() -> None:
    assert plan(TracesSettings(), {"OTEL_TRACES_EXPORTER": "console,otlp"}).exporter == "console"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        ({"OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG"),
        ({"OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
    ],
)
def test_bad_variables_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        plan(TracesSettings(), env)


def test_resource_attributes() -> None:
    settings = TracesSettings(resource_attributes=("k8s.node.name=node-1", "team = storage"))
    assert plan(settings, {}).attributes == {"k8s.node.name": "node-1", "team": "storage"}
    with pytest.raises(ConfigError, match="key=value"):
        plan(TracesSettings(resource_attributes=("no-value",)), {})
