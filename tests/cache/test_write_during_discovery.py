"""A write of a key while the cache is discovering it (its HEAD at the remote in flight) must
leave nothing behind: the entry the discovery records describes the object as it was before
the write. A real daemon in front of moto, through a relay that holds the HEAD."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.cache.test_read_cache import cached_daemon, new_bucket
from tests.support import client


def test_a_delete_during_discovery_is_not_undone_by_it(relay, remote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="k", Body=b"soon deleted")
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.clear()
        relay.hold_answers("HEAD", f"/{bucket}/k")
        outcome: list[object] = []

        def head() -> None:
            try:
                outcome.append(s3.head_object(Bucket=bucket, Key="k")["ContentLength"])
            except ClientError as exc:
                outcome.append(exc.response["ResponseMetadata"]["HTTPStatusCode"])

        reader = threading.Thread(target=head)
        reader.start()
        deadline = time.monotonic() + 30
        while relay.answers_waiting == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert relay.answers_waiting == 1  # the discovery's HEAD, answered (it exists), held
        s3.delete_object(Bucket=bucket, Key="k")  # written through while it is held
        relay.hold_answers("HEAD", f"/{bucket}/k", held=False)
        reader.join(30)
        assert outcome  # concurrent with the delete: either answer is S3's
        # Once the delete was answered, the key is gone for every reader after it.
        with pytest.raises(ClientError) as exc:
            s3.head_object(Bucket=bucket, Key="k")
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_read_after_a_delete_does_not_share_a_discovery_begun_before_it(
    relay, remote, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="k", Body=b"soon deleted")
    with cached_daemon(relay, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        relay.hold_answers("HEAD", f"/{bucket}/k")
        outcomes: dict[str, object] = {}

        def head(name: str) -> None:
            try:
                outcomes[name] = s3.head_object(Bucket=bucket, Key="k")["ContentLength"]
            except ClientError as exc:
                outcomes[name] = exc.response["ResponseMetadata"]["HTTPStatusCode"]

        before = threading.Thread(target=head, args=("before",))
        before.start()
        wait_until(lambda: relay.answers_waiting == 1)
        s3.delete_object(Bucket=bucket, Key="k")
        after = threading.Thread(target=head, args=("after",))
        after.start()
        # Its own HEAD reaches the relay too (not only the one begun before the delete).
        wait_until(lambda: relay.answers_waiting == 2, seconds=5)
        relay.hold_answers("HEAD", f"/{bucket}/k", held=False)
        before.join(30)
        after.join(30)
        assert outcomes["after"] == 404


def wait_until(condition, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
