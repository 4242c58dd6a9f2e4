"""The daemon's health and metrics, composed from its running parts.

Built after the services (the probes and the scrape read them) and before the listener (the
app routes to them). Metrics themselves are created with the daemon, so that the remote client,
built first, records its calls from the start.
"""

from __future__ import annotations

from collections.abc import Callable

from s3d.cache.service import ReadCache
from s3d.catalogue.service import Catalogue
from s3d.daemon.drs_start import read_tokens
from s3d.journal.service import Journal
from s3d.metrics.exposition import Metrics
from s3d.metrics.state import Sources
from s3d.remote.client import RemoteS3
from s3d.server.health import Health
from s3d.server.probes import Probes
from s3d.settings import Settings


def health_of(
    settings: Settings, cache: ReadCache, journal: Journal | None, listening: Callable[[], bool]
) -> Health:
    """Readiness: listening, cache open, journal open (write-back), data directory writable."""
    checks = {"not listening": listening, "cache closed": lambda: cache.is_open}
    if journal is not None:
        checks["journal closed"] = lambda: journal.is_open
    return Health(settings.data_dir, checks)


def probes_of(
    settings: Settings,
    health: Health,
    metrics: Metrics | None,
    parts: tuple[ReadCache, Journal | None, Catalogue | None, RemoteS3],
) -> Probes:
    """The probe endpoints; the metrics (when on) set to read ``parts`` at each scrape.
    Raises StartupError when the metrics' tokens file cannot be read."""
    if metrics is None:
        return Probes(health, None, frozenset(), settings.server.base_domains)
    cache, journal, catalogue, remote = parts
    metrics.read_state(
        Sources(
            cache=lambda: cache.stats,
            journal=journal.status if journal is not None else None,
            catalogue=catalogue.status if catalogue is not None else None,
            credentials=remote.credentials_status,
        )
    )
    path = settings.metrics.bearer_token_file
    tokens = read_tokens(path, "metrics.bearer_token_file") if path else frozenset()
    return Probes(health, metrics.scrape, tokens, settings.server.base_domains)
