"""What the daemon checks before it serves: that it can read every bucket it was told about.

Entry layer. ``check_buckets`` sends HeadBucket for each bucket of ``remote.buckets`` and
``drs.buckets`` with the credentials the chain found, and stops the start with a message that
names the bucket, where the credentials came from, every source tried in order and the S3
error — unless ``remote.allow_offline_start``, for nodes that must start while the remote is
down (then each failure is a warning).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from s3d.protocol import operations as ops
from s3d.protocol.errors import S3Error
from s3d.remote.client import RemoteS3

log = logging.getLogger("s3d.daemon")


class StartupError(Exception):
    """What stops the daemon from starting, in one line for the user."""


async def check_buckets(remote: RemoteS3, buckets: tuple[str, ...], offline_ok: bool) -> None:
    """Raises StartupError naming the first bucket that cannot be read."""
    for bucket in dict.fromkeys(buckets):
        try:
            await check_readable(remote, bucket)
        except S3Error as error:
            message = cannot_read(remote, bucket, error)
            if not offline_ok:
                raise StartupError(message) from None
            log.warning("%s; starting anyway (remote.allow_offline_start)", message)


async def check_readable(remote: RemoteS3, bucket: str) -> None:
    """HeadBucket; when refused, a one-key listing too, whose error has a body: a HEAD answer
    cannot say *why* (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied…)."""
    try:
        await remote.head_bucket(ops.HeadBucket(bucket))
    except S3Error as error:
        if error.status != HTTPStatus.FORBIDDEN:
            raise
        await remote.list_objects(ops.ListObjects(bucket, version=2, max_keys=1))
        raise  # the listing was allowed: HeadBucket's refusal stands


def cannot_read(remote: RemoteS3, bucket: str, error: S3Error) -> str:
    tried = remote.resolution.tried_text() or "none"
    return (
        f"cannot read bucket {bucket!r} with the remote credentials from "
        f"{remote.source_for(bucket)}: {error.code} ({error.message}). "
        f"Credential sources tried, in order: {tried}"
    )
