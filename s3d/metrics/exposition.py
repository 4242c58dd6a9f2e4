"""One daemon's metrics: its registry, its recorders and the scrape (see the package doc).

Each daemon has a registry of its own (tests run several daemons in one process), holding the
traffic recorders, the state collector and the process collector (CPU, memory, open files).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily
from prometheus_client.registry import Collector

from s3d.metrics.state import Sources, StateCollector
from s3d.metrics.traffic import RemoteCallMetrics, RequestMetrics

# ``*_created`` series double every counter for a timestamp dashboards do not use.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """Build once per daemon; ``requests.observe`` and ``remote_calls.observe`` are the
    observers to hand to the server and the remote adapter; ``scrape`` renders the text."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = RequestMetrics(self.registry)
        self.remote_calls = RemoteCallMetrics(self.registry)
        self._state = StateCollector(Sources())
        self.registry.register(self._state)
        ProcessCollector(registry=self.registry)
        info = GaugeMetricFamily("s3d_build_info", "The s3d version running.", labels=("version",))
        info.add_metric((version,), 1)
        self.registry.register(_Constant(info))

    def read_state(self, sources: Sources) -> None:
        """The services to read at each scrape (once they exist: after the daemon started
        them). Replaces the sources given before."""
        self.registry.unregister(self._state)
        self._state = StateCollector(sources)
        self.registry.register(self._state)

    async def scrape(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type. Errors come from a source
        that cannot be read (the catalogue's store); cancellation just stops the scrape."""
        await self._state.refresh()
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Constant(Collector):
    def __init__(self, metric: GaugeMetricFamily) -> None:
        self._metric = metric

    def collect(self) -> list[GaugeMetricFamily]:
        return [self._metric]
