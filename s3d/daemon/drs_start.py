"""The DRS catalogue's part of the composition root: how it reaches buckets, and the
bootstrap that seeds it at start.

Bootstrap, for each bucket of ``drs.buckets`` and each file of ``drs.index_locations``: first
a HeadBucket with the remote credentials, failing the start with a message naming the bucket,
where the credentials came from and the S3 error; then the ``drs.index`` is fetched (through
the gateway: a file this node wrote and has not uploaded yet counts), checked and ingested
before the listener opens, so the DRS API never answers from a half-seeded catalogue. A bucket
without ``drs.index`` is fine (logged); an explicit location that does not exist, or a file that
does not check out, stops the start.
"""

from __future__ import annotations

import logging
from pathlib import Path

from s3d.catalogue.feed import chunks_of
from s3d.catalogue.index_format import IndexFormatError
from s3d.catalogue.service import Catalogue, parse_s3_url
from s3d.catalogue.transfer import Transfers
from s3d.daemon.startup import StartupError, cannot_read, check_readable
from s3d.gateway import Gateway
from s3d.protocol import operations as ops
from s3d.protocol.errors import NoSuchKey, S3Error
from s3d.protocol.model import ByteStream, LocalFile
from s3d.remote.client import RemoteS3
from s3d.remote.sidecar import SidecarError, location_next_to, parse
from s3d.settings import DrsSettings
from s3d.staging import StagedBody
from s3d.telemetry import trace
from s3d.version import version

log = logging.getLogger("s3d.catalogue")


def catalogue_transfers(
    catalogue: Catalogue, gateway: Gateway, remote: RemoteS3, data_dir: Path
) -> Transfers:
    async def put(bucket: str, key: str, body: StagedBody, content_type: str) -> None:
        op = ops.PutObject(bucket, key, headers=(("content-type", content_type),))
        await gateway.execute(op, body)

    async def fetch(bucket: str, key: str) -> ByteStream | LocalFile | bytes | None:
        # A drs.index written here and not uploaded yet is the journal's; any other is read
        # from the remote directly: through the cache it would be kept twice on this disk.
        return (await gateway.newest(ops.GetObject(bucket, key))).body

    return Transfers(
        catalogue,
        gateway.staging,
        data_dir / "catalogue" / "work",
        put,
        fetch,
        f"s3d {version()}",
    )


def locations(settings: DrsSettings) -> list[tuple[str, str, bool]]:
    """(bucket, key, explicit) of every drs.index to ingest at start. Raises StartupError for
    a location that is not s3://bucket/key."""
    found = [(bucket, "drs.index", False) for bucket in settings.buckets]
    for url in settings.index_locations:
        try:
            bucket, key = parse_s3_url(url)
        except ValueError as exc:
            raise StartupError(f"drs.index_locations: {exc}") from None
        found.append((bucket, key, True))
    return found


async def bootstrap(
    settings: DrsSettings, remote: RemoteS3, transfers: Transfers, offline_ok: bool = False
) -> None:
    """Check every bucket, then ingest every drs.index. Raises StartupError; with
    ``offline_ok`` (remote.allow_offline_start), a bucket or file that cannot be read is a
    warning (a bad file still stops the start: it was read, and is wrong)."""
    wanted = locations(settings)
    unreadable: set[str] = set()
    for bucket in dict.fromkeys(bucket for bucket, _, _ in wanted):
        try:
            await check_readable(remote, bucket)
        except S3Error as error:
            message = f"DRS bootstrap: {cannot_read(remote, bucket, error)}"
            if not offline_ok:
                raise StartupError(message) from None
            log.warning("%s; starting without its drs.index", message)
            unreadable.add(bucket)
    for bucket, key, explicit in wanted:
        if bucket in unreadable:
            continue
        source = f"s3://{bucket}/{key}"
        try:
            with trace(
                "catalogue.import",
                {"s3d.catalogue.source": source, "s3d.catalogue.bootstrap": True},
            ):
                result = await transfers.import_(source)
        except NoSuchKey:
            if explicit:
                raise StartupError(f"DRS bootstrap: {source} does not exist") from None
            log.info("DRS bootstrap: no drs.index in bucket %s; nothing to ingest", bucket)
            continue
        except IndexFormatError as error:
            raise StartupError(f"DRS bootstrap: {error}") from None
        except S3Error as error:
            message = (
                f"DRS bootstrap: cannot read {source} with the remote credentials from "
                f"{remote.credential_source}: {error.code} ({error.message})"
            )
            if not offline_ok:
                raise StartupError(message) from None
            log.warning("%s; starting without it", message)
            continue
        log.info("DRS bootstrap: %d records from %s", result.records, source)


async def use_sidecars(settings: DrsSettings, remote: RemoteS3) -> None:
    """For each drs.index to ingest, a ``drs.credentials.json`` beside it (read with the
    chain's credentials) names the credentials for its bucket. Raises StartupError for a
    sidecar that cannot be used; one that is absent or cannot be read is no sidecar."""
    for bucket, key, _ in locations(settings):
        name = location_next_to(key)
        source = f"s3://{bucket}/{name}"
        try:
            got = await remote.get_object(ops.GetObject(bucket, name))
            data = b"".join([chunk async for chunk in chunks_of(got.body)])
        except S3Error as error:
            log.debug("no credentials sidecar at %s: %s", source, error.code)
            continue
        try:
            await remote.use_sidecar(bucket, parse(data, source))
        except SidecarError as error:
            raise StartupError(f"DRS bootstrap: {error}") from None
        log.info("bucket %s: credentials named by %s", bucket, source)


def read_tokens(path: Path | None, setting: str = "drs.bearer_tokens_file") -> frozenset[str]:
    """The bearer tokens of a tokens file (``setting`` names it in errors): one per line,
    blank lines and lines starting with # aside. Raises StartupError when it cannot be read."""
    if path is None:
        return frozenset()
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise StartupError(f"{setting}: cannot read {path}: {exc}") from None
    tokens = frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
    if not tokens:
        raise StartupError(f"{setting}: {path} holds no token")
    return tokens
