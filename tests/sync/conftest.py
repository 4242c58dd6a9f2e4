"""Fixtures of the sync folder tests: a recording relay in front of moto, a fresh bucket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support import CountingRelay


@pytest.fixture
def relay(remote_url: str) -> Iterator[CountingRelay]:
    with CountingRelay(remote_url) as running:
        yield running


@pytest.fixture
def bucket(remote) -> str:  # type: ignore[no-untyped-def]
    name = f"sync-{uuid.uuid4().hex[:12]}"
    remote.create_bucket(Bucket=name)
    return name
