"""Scraping a running daemon's ``/_s3d/metrics`` over HTTP, for the tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from tests.support import send

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(endpoint: str, token: str | None = None) -> Samples:
    """Every sample of one scrape, by (sample name, labels). AssertionError unless 200."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, answered, body = send("GET", f"{endpoint}/_s3d/metrics", headers)
    assert status == 200, (status, body[:500])
    assert answered["content-type"].startswith("text/plain"), answered
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels`` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def eventually(endpoint: str, check: Callable[[Samples], bool], seconds: float = 60) -> Samples:
    """Scrape until ``check`` holds (AssertionError after ``seconds``): uploads run later."""
    deadline = time.monotonic() + seconds
    while True:
        samples = scrape(endpoint)
        if check(samples):
            return samples
        assert time.monotonic() < deadline, "the metrics never got there"
        time.sleep(0.1)
