"""The composition root: builds the components from the settings, serves, and stops cleanly.

Start order: tracing, the remote (embedded moto when none is configured), the staging area,
the remote client, the gateway, then the HTTP listener. Stop order is the reverse, so the
listener stops accepting and drains requests in flight (within ``server.shutdown_grace``)
before anything they depend on closes, and the spans of all of it are flushed last. Readiness
(``/_s3d/health/ready``) turns false first, as the stop begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import signal
import ssl
import sys
import time
from contextlib import AsyncExitStack
from typing import Any, Self

from s3d.anonymous import UnsignedAccess
from s3d.cache.service import ReadCache
from s3d.cache.stats import CacheStats
from s3d.catalogue.service import Catalogue
from s3d.catalogue.store import CatalogueStore
from s3d.catalogue.transfer import Transfers
from s3d.daemon import local_keys
from s3d.daemon.drs_start import bootstrap, catalogue_transfers, read_tokens, use_sidecars
from s3d.daemon.logs import configure_logging
from s3d.daemon.mounts_start import mounts_section, start_mounts
from s3d.daemon.probes_start import health_of, probes_of
from s3d.daemon.rules_start import reload_rules, start_rules
from s3d.daemon.snapshots_start import snapshot_api
from s3d.daemon.startup import check_buckets
from s3d.decisions.authorise import Authorisation
from s3d.decisions.service import Steering
from s3d.gateway import Gateway
from s3d.journal.service import Journal
from s3d.metrics.exposition import Metrics
from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchKey
from s3d.protocol.model import header
from s3d.remote.client import RemoteS3
from s3d.remote.embedded import EmbeddedRemote
from s3d.server.admin import AdminHandler, StatusProvider, admin_routes
from s3d.server.admin_drs import drs_routes
from s3d.server.admin_rules import rules_routes
from s3d.server.app import Api, build_app
from s3d.server.auth import Authenticator
from s3d.server.connection import EdgeLimits
from s3d.server.drs import DrsApi, DrsConfig
from s3d.server.handler import S3Handler
from s3d.server.health import Health
from s3d.server.listener import Listener
from s3d.server.probes import Probes
from s3d.settings import (
    EMBEDDED,
    EMBEDDED_CREDENTIALS,
    AccessKey,
    ConfigError,
    RemoteSettings,
    Settings,
)
from s3d.staging import StagingArea
from s3d.sync.service import StatusSection, SyncFolders
from s3d.telemetry import Attributes, trace
from s3d.tracing.provider import Tracing
from s3d.version import version

log = logging.getLogger("s3d.daemon")


class Daemon:
    """A running s3d: enter to start serving, exit to stop. ``endpoint_url`` once entered."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stack = AsyncExitStack()
        self.endpoint_url = ""
        self.remote_url = ""
        self.access_key: AccessKey | None = None
        self.generated_key = False
        self.cache: ReadCache | None = None
        self.journal: Journal | None = None
        self.catalogue: Catalogue | None = None
        self.gateway: Gateway | None = None
        self.remote: RemoteS3 | None = None
        self.metrics = Metrics(version()) if settings.metrics.enabled else None
        self.health: Health | None = None
        self.steering: Steering | None = None
        self.authorisation: Authorisation | None = None
        self._listener: Listener | None = None
        self.mounts: list[Any] = []

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop accepting, drain requests in flight, close every component. Idempotent."""
        if self.health is not None:
            self.health.stopping = True  # readiness falls before the listener closes
        await self._stack.aclose()

    async def _start(self) -> None:
        settings = self.settings
        # First in, last out: spans of everything stopping (the journal's last uploads
        # included) are still recorded, then flushed once all else has stopped.
        await self._stack.enter_async_context(Tracing(settings.traces))
        remote_settings = await self._remote_settings(settings.remote)
        keys = await self._access_keys()
        staging = await self._stack.enter_async_context(StagingArea(settings.data_dir / "staging"))
        observe = self.metrics.remote_calls.observe if self.metrics is not None else None
        remote = await self._stack.enter_async_context(RemoteS3(remote_settings, observe))
        self.remote = remote
        steering, self.authorisation = await start_rules(settings, remote)
        # The policy engine may only be freed on the thread that made it: the loop's.
        self._stack.push_async_callback(self.authorisation.aclose)
        self.steering = steering
        cache = await self._stack.enter_async_context(
            # Pending writes share the cache's volume; the journal, started after the cache
            # (it hands uploads over to it), tells how many bytes they hold.
            ReadCache(
                settings.data_dir / "cache", settings.cache, remote, self._pending_bytes, steering
            )
        )
        self.cache = cache
        steering.pin = cache.pin if settings.cache.enabled else None
        steering.finder.store = cache.tag_sets if settings.cache.enabled else None
        remote_config = settings.remote
        configured = remote_config.buckets + tuple(b.bucket for b in remote_config.bucket_settings)
        await check_buckets(remote, configured, remote_config.allow_offline_start)
        # The catalogue before the journal: the journal, stopped first, flushes while the
        # catalogue still takes note of the ETags uploads get.
        catalogue = await self._catalogue(remote)
        journal = await self._writeback(remote, staging, cache, catalogue)
        sync = await self._sync_folders(journal)
        authenticator = Authenticator(
            {k.access_key_id: k.secret_access_key for k in keys}, settings.server.anonymous
        )
        gateway = Gateway(
            remote,
            staging,
            cache,
            journal,
            volume=settings.cache.max_size,
            catalogue=catalogue,
            steering=steering,
        )
        self.gateway = gateway
        handler = S3Handler(
            gateway,
            authenticator,
            settings.server.base_domains,
            settings.server.body_timeout,
            self.authorisation,
            UnsignedAccess(remote, journal, cache, gateway.facts)
            if settings.server.anonymous == "remote"
            else None,
        )
        sections: dict[str, StatusSection] = {}
        if catalogue is not None:
            sections["catalogue"] = catalogue.status
        if sync is not None:
            sections.update(sync.sections())
        if settings.fuse.mounts:
            sections.update(mounts_section(lambda: self.mounts))
        routes = admin_routes(
            status=status_provider(self, cache), journal=self.journal, sections=sections
        )
        drs: DrsApi | None = None
        if catalogue is not None and gateway.feed is not None:
            self._stack.push_async_callback(gateway.feed.aclose)
            transfers = catalogue_transfers(catalogue, gateway, remote, settings.data_dir)
            await use_sidecars(settings.drs, remote)
            await bootstrap(settings.drs, remote, transfers, remote_config.allow_offline_start)
            routes += drs_routes(catalogue, transfers)
            drs = self._drs_api(catalogue, gateway, remote, authenticator, keys)
            if settings.drs.export_interval > 0:
                self._periodic_export(transfers)
        routes += rules_routes(self.reload_rules, steering.status)
        admin = AdminHandler(routes, authenticator, settings.server.base_domains)
        snapshots = await snapshot_api(settings, gateway, authenticator, keys)
        self.health = health_of(settings, cache, journal, self._listening)
        parts = (cache, journal, catalogue, remote)
        await self._listen(
            handler,
            admin,
            drs,
            probes_of(settings, self.health, self.metrics, parts),
            (snapshots,) if snapshots is not None else (),
        )
        # Last in, first out: unmounted before the listener drains and the journal flushes.
        self.mounts = await start_mounts(self._stack, gateway, settings)

    async def reload_rules(self) -> str | None:
        """Read the rule files again (SIGHUP); None when in force, else why not."""
        if self.steering is None or self.authorisation is None:
            return "not started"
        return await reload_rules(self.steering, self.authorisation, self.settings.rules)

    def _listening(self) -> bool:
        return self._listener is not None and self._listener.listening

    async def _catalogue(self, remote: RemoteS3) -> Catalogue | None:
        drs = self.settings.drs
        if not drs.enabled:
            return None
        store = await self._stack.enter_async_context(
            CatalogueStore(self.settings.data_dir / "catalogue" / "catalogue.sqlite")
        )
        self.catalogue = await self._stack.enter_async_context(
            Catalogue(store, drs.project, self.settings.remote.region)
        )
        return self.catalogue

    def _drs_api(
        self,
        catalogue: Catalogue,
        gateway: Gateway,
        remote: RemoteS3,
        authenticator: Authenticator,
        keys: tuple[AccessKey, ...],
    ) -> DrsApi:
        settings = self.settings

        async def current_etag(bucket: str, key: str) -> str | None:
            try:
                head = await gateway.newest(ops.GetObject(bucket, key, head=True))
            except NoSuchKey:
                return None
            return header(head.headers, "etag")

        config = DrsConfig(
            hostname=settings.drs.hostname,
            url_expiry=settings.drs.url_expiry,
            region=settings.server.region,
            keys={k.access_key_id: k.secret_access_key for k in keys},
            bearer_tokens=read_tokens(settings.drs.bearer_tokens_file),
            anonymous=settings.server.anonymous in ("read", "read-write"),
            base_domains=settings.server.base_domains,
            service_id=f"s3d.{settings.drs.project}",
            version=version(),
        )
        presign = remote.presign_get if settings.drs.access_urls == "remote" else None
        return DrsApi(catalogue, authenticator, config, current_etag, presign)

    def _periodic_export(self, transfers: Transfers) -> None:
        drs = self.settings.drs
        attributes: Attributes = {
            "s3d.catalogue.target": drs.export_location,
            "s3d.catalogue.periodic": True,
        }

        async def run() -> None:
            while True:
                await asyncio.sleep(drs.export_interval)
                try:
                    with trace("catalogue.export", attributes):
                        await transfers.export(drs.export_location)
                except Exception:
                    log.exception("the periodic export to %s failed", drs.export_location)

        task = asyncio.create_task(run(), name="s3d-drs-export")

        async def stop() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        self._stack.push_async_callback(stop)

    def _pending_bytes(self) -> int:
        return self.journal.pending_bytes if self.journal is not None else 0

    async def _writeback(
        self,
        remote: RemoteS3,
        staging: StagingArea,
        cache: ReadCache,
        catalogue: Catalogue | None,
    ) -> Journal | None:
        """The journal, in write-back mode: entered after the cache and the remote, so that on
        stop it flushes (and hands uploads to the cache) before they close."""
        if self.settings.journal.mode != "write-back":
            return None
        journal = await self._stack.enter_async_context(
            Journal(
                self.settings.data_dir / "journal",
                self.settings.journal,
                remote,
                staging,
                cache.adopt if self.settings.cache.enabled else None,
                opaque_etags=self.settings.remote.sse_customer_key_file is not None,
                on_remote_etag=catalogue.retag if catalogue is not None else None,
            )
        )
        self.journal = journal
        return journal

    async def _sync_folders(self, journal: Journal | None) -> SyncFolders | None:
        """The sync folders, entered after the journal (they stop before it flushes)."""
        settings = self.settings
        if not settings.sync.folders:
            return None
        if journal is None:
            raise ConfigError("sync.folders: sync folders upload through the journal; they "
                              "need journal.mode = write-back")  # fmt: skip
        steering = self.steering
        shared = (lambda: steering.rules.get("sync")) if steering is not None else None
        folders = SyncFolders(settings.sync, journal, settings.data_dir, shared)
        return await self._stack.enter_async_context(folders)

    async def _listen(
        self,
        handler: S3Handler,
        admin: AdminHandler,
        drs: DrsApi | None,
        probes: Probes,
        apis: tuple[Api, ...] = (),
    ) -> None:
        server = self.settings.server
        observe = self.metrics.requests.observe if self.metrics is not None else None
        listener = await self._stack.enter_async_context(
            Listener(
                build_app(handler, admin, drs, probes=probes, observe=observe, apis=apis),
                server.host,
                server.port,
                tls=self._tls(),
                shutdown_grace=server.shutdown_grace,
                limits=EdgeLimits(
                    server.header_timeout, server.idle_timeout, server.max_connections
                ),
            )
        )
        self._listener = listener
        self.endpoint_url = listener.endpoint_url
        log.info("s3d serving S3 at %s, remote %s", self.endpoint_url, self.remote_url)

    async def _remote_settings(self, remote: RemoteSettings) -> RemoteSettings:
        if remote.endpoint_url != EMBEDDED:
            self.remote_url = remote.endpoint_url
            return remote
        embedded = await self._stack.enter_async_context(EmbeddedRemote())
        self.remote_url = embedded.endpoint_url
        # moto accepts any credentials; fixed ones keep botocore from searching for real ones.
        return dataclasses.replace(
            remote,
            endpoint_url=embedded.endpoint_url,
            access_key_id=remote.access_key_id or EMBEDDED_CREDENTIALS,
            secret_access_key=remote.secret_access_key or EMBEDDED_CREDENTIALS,
        )

    async def _access_keys(self) -> tuple[AccessKey, ...]:
        configured = self.settings.server.access_keys
        if configured:
            self.access_key = configured[0]
            return configured
        key, created = await asyncio.to_thread(local_keys.load_or_create, self.settings.data_dir)
        self.access_key, self.generated_key = key, created
        return (key,)

    def _tls(self) -> ssl.SSLContext | None:
        server = self.settings.server
        if server.tls_cert_file is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(server.tls_cert_file, server.tls_key_file)
        return context


def status_provider(daemon: Daemon, cache: ReadCache | None = None) -> StatusProvider:
    """What ``GET /_s3d/status`` answers (``s3d status`` shows it), read at each request.

    ``cache`` gives the live cache's counters; without it the cache part holds only the
    configured size. The journal part is the journal's own status in write-back mode,
    ``{"mode": "write-through"}`` otherwise.
    """
    started = time.monotonic()
    settings, live = daemon.settings.cache, cache

    def status() -> dict[str, object]:
        stats = live.stats if live else CacheStats(settings.enabled, max_size=settings.max_size)
        journal = daemon.journal
        return {
            "version": version(),
            "uptime_seconds": round(time.monotonic() - started, 3),
            "endpoint": daemon.endpoint_url,
            "remote": daemon.remote_url,
            "remote_credentials": daemon.remote.credentials_status() if daemon.remote else None,
            "cache": stats.as_dict(),
            "journal": journal.status() if journal is not None else {"mode": "write-through"},
            "rules": daemon.steering.status() if daemon.steering is not None else None,
            "policies": daemon.authorisation.status() if daemon.authorisation else None,
        }

    return status


def banner(daemon: Daemon, terminal: bool = True) -> str:
    """What ``s3d serve`` prints on start: where to point clients and commands to try. A
    generated secret is printed only on a ``terminal``: elsewhere (``make run > log``) the
    banner points at the file that holds it, which a log must not copy."""
    key = daemon.access_key
    assert key is not None
    url, region = daemon.endpoint_url, daemon.settings.server.region
    stored = (daemon.settings.data_dir / local_keys.FILE_NAME).absolute()
    generated = not daemon.settings.server.access_keys
    if not generated:
        secret, export = "(the secret configured for this key)", "<its secret>"
    elif terminal:
        secret = export = key.secret_access_key
    else:
        secret = f"(in {stored}; shown only on a terminal)"
        export = (
            "\"$(python3 -c 'import json, sys; "
            f'print(json.load(open(sys.argv[1]))["secret_access_key"])\' {stored})"'
        )
    lines = [
        f"s3d is serving S3 at {url}",
        f"  remote:            {daemon.remote_url}",
        f"  access key id:     {key.access_key_id}",
        f"  secret access key: {secret}",
    ]
    if generated and terminal:
        lines.append(f"  (generated once, kept in {stored})")
    lines += [
        "",
        "Try it:",
        f"  export AWS_ACCESS_KEY_ID={key.access_key_id} AWS_DEFAULT_REGION={region}",
        f"  export AWS_SECRET_ACCESS_KEY={export}",
        f"  aws --endpoint-url {url} s3 mb s3://demo",
        f"  aws --endpoint-url {url} s3 cp README.md s3://demo/README.md",
        f"  aws --endpoint-url {url} s3 ls s3://demo/",
        "",
    ]
    return "\n".join(lines)


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully. Raises what start-up raises."""
    configure_logging(settings.log)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with Daemon(settings) as daemon:
        # Everything built at start lives as long as the daemon: out of the collector's sight,
        # a full collection walks only what requests create (a million-record import made
        # 60-90 ms pauses every half second without this, 1-4 ms with it).
        gc.freeze()
        reloads: set[asyncio.Task[str | None]] = set()  # kept: a task needs an owner
        loop.add_signal_handler(signal.SIGHUP, _reloading, daemon, reloads)
        sys.stdout.write(banner(daemon, sys.stdout.isatty()))
        sys.stdout.flush()
        await stop.wait()
        log.info("stopping: draining requests for up to %ss", settings.server.shutdown_grace)
        loop.remove_signal_handler(signal.SIGHUP)
        for task in reloads:
            task.cancel()
    log.info("stopped")


def _reloading(daemon: Daemon, reloads: set[asyncio.Task[str | None]]) -> None:
    """SIGHUP: reload the filter rules in the background, the task kept until it ends."""
    task = asyncio.get_running_loop().create_task(daemon.reload_rules(), name="s3d-rules-reload")
    reloads.add(task)
    task.add_done_callback(reloads.discard)
