"""A clean-up between tests that does not cascade (the vendored suite stays unchanged).

s3-tests empties and deletes every bucket of the run's prefix before and after each test
(``setup``/``teardown`` in ``s3tests/functional/__init__.py``). Two things make that clean-up
fail against moto, whatever stands in front of it, and then every later test fails in set-up
until the leftover goes away, so the counts depend on timing rather than on the endpoint:

- the clean-up lists a page of versions, deletes it, then asks for the next page after a
  key-marker it has just deleted; moto then answers an empty, untruncated page, versions are
  left and DeleteBucket answers ``409 BucketNotEmpty``;
- a DeleteObjects error for a locked object is read for its ``VersionId``, which moto's error
  entries do not carry (``KeyError: 'VersionId'``), so the lock is never waited out.

Here the suite's ``nuke_bucket`` is replaced by one that lists every version before deleting
any (pages are never asked for after a deleted marker), lifts legal holds, waits out
retention (up to 60 s, as the suite does) and deletes again; and a bucket a test's set-up
cannot remove is put aside: the tests that follow are not failed for it (the test that left it
fails in its own tear-down, as before), and it is tried again at every clean-up. Applied alike
to every target (moto alone included).
"""

from __future__ import annotations

import contextlib
import datetime
import time
from typing import Any

import s3tests.functional as functional
from botocore.exceptions import ClientError

_PAGE = 1000
_LOCK_WAIT = 60.0
_left_over: set[str] = set()
"""Buckets a set-up could not remove: an earlier test's, not the next test's failure."""


def _versions(client: Any, bucket: str) -> list[dict[str, str]]:
    """Every version and delete marker of ``bucket``, all pages read before any delete."""
    found: list[dict[str, str]] = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": _PAGE}
    while True:
        page = client.list_object_versions(**kwargs)
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            found.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
        if not page.get("IsTruncated"):
            return found
        kwargs["KeyMarker"] = page.get("NextKeyMarker")
        kwargs["VersionIdMarker"] = page.get("NextVersionIdMarker")


def _unlock(client: Any, bucket: str, denied: list[dict[str, str]]) -> datetime.datetime | None:
    """Lift the legal holds of objects a delete was refused for; the latest retention date."""
    latest = None
    for entry in denied:
        where = {"Bucket": bucket, "Key": entry["Key"], "VersionId": entry["VersionId"]}
        with contextlib.suppress(ClientError):
            client.put_object_legal_hold(**where, LegalHold={"Status": "OFF"})
        try:
            until = client.get_object_retention(**where)["Retention"]["RetainUntilDate"]
        except (ClientError, KeyError):
            continue
        latest = until if latest is None or until > latest else latest
    return latest


def _delete_versions(client: Any, bucket: str) -> list[dict[str, str]]:
    """Delete every version once; those refused (AccessDenied: locked), with their ids."""
    versions = _versions(client, bucket)
    denied = []
    for start in range(0, len(versions), _PAGE):
        batch = versions[start : start + _PAGE]
        answer = client.delete_objects(
            Bucket=bucket,
            Delete={"Objects": batch, "Quiet": True},
            BypassGovernanceRetention=True,
        )
        refused = {
            e.get("Key") for e in answer.get("Errors", []) if e.get("Code") == "AccessDenied"
        }
        # moto's error entries carry no VersionId: take them from the listing.
        denied += [v for v in batch if v["Key"] in refused]
    return denied


def nuke_bucket(client: Any, bucket: str) -> None:
    """Empty ``bucket`` (every version; locks lifted or waited out) and delete it."""
    with contextlib.suppress(ClientError):  # a policy may deny the clean-up itself
        client.delete_bucket_policy(Bucket=bucket)
    for _ in range(3):
        denied = _delete_versions(client, bucket)
        if not denied:
            break
        until = _unlock(client, bucket, denied)
        if until is not None:
            wait = (until - datetime.datetime.now(until.tzinfo)).total_seconds()
            if wait > _LOCK_WAIT:
                raise RuntimeError(f"bucket {bucket} has objects locked for {wait:.0f} s more")
            time.sleep(max(wait, 0) + 1)
    client.delete_bucket(Bucket=bucket)


def _nuke_all(strict: bool) -> None:
    """Remove every bucket of the run's prefix, for each of the suite's users. ``strict``:
    raise for a bucket that was not already left over (the test that just ran made it)."""
    error = None
    clients = (functional.get_client(), functional.get_alt_client(), functional.get_tenant_client())
    for client in clients:
        for bucket in functional.get_buckets_list(client, functional.get_prefix()):
            try:
                nuke_bucket(client, bucket)
                _left_over.discard(bucket)
            except Exception as exc:  # reported once, by the test that made it
                if strict and bucket not in _left_over:
                    error = exc
                _left_over.add(bucket)
    if error is not None:
        raise error


def setup() -> None:
    _nuke_all(strict=False)


def teardown() -> None:
    _nuke_all(strict=True)


functional.nuke_bucket = nuke_bucket
functional.setup = setup
functional.teardown = teardown
