"""Metrics scraped from a running daemon over HTTP follow a workload as it runs."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3d.settings import MetricsSettings
from tests.journal.test_writeback import drained, new_bucket, writeback
from tests.metrics.scrape import eventually, names, scrape, value
from tests.support import CountingRelay, DaemonThread, Fault, client, daemon_settings, send


def test_a_workload_moves_the_metrics(relay: CountingRelay, remote, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bucket = new_bucket(remote)
    remote.put_object(Bucket=bucket, Key="remote-only", Body=b"r" * 1000)
    with writeback(relay.url, tmp_path) as daemon:
        s3 = client(daemon.endpoint_url)
        url = daemon.endpoint_url
        before = scrape(url)
        assert value(before, "s3d_journal_pending_changes") == 0
        assert value(before, "s3d_cache_reads_total", result="hit") == 0

        # A cold GET (a miss, one remote GetObject), then a warm one (a hit).
        assert s3.get_object(Bucket=bucket, Key="remote-only")["Body"].read() == b"r" * 1000
        assert s3.get_object(Bucket=bucket, Key="remote-only")["Body"].read() == b"r" * 1000
        warm = scrape(url)
        assert value(warm, "s3d_cache_reads_total", result="miss") == 1
        assert value(warm, "s3d_cache_reads_total", result="hit") == 1
        assert value(warm, "s3d_requests_total", operation="GetObject", status="2xx") == 2
        assert value(warm, "s3d_sent_bytes_total", operation="GetObject") >= 2000
        assert value(warm, "s3d_request_duration_seconds_count", operation="GetObject") == 2
        assert value(warm, "s3d_remote_call_duration_seconds_count", operation="GetObject") >= 1

        # Writes held at the relay stay pending; flushed, the gauge falls back to 0.
        relay.hold_writes(True)
        s3.put_object(Bucket=bucket, Key="pending", Body=b"p" * 5000)
        held = scrape(url)
        assert value(held, "s3d_journal_pending_changes") == 1
        assert value(held, "s3d_journal_pending_bytes") >= 5000
        assert value(held, "s3d_received_bytes_total", operation="PutObject") >= 5000
        relay.hold_writes(False)
        drained(daemon)
        flushed = eventually(url, lambda s: value(s, "s3d_journal_pending_changes") == 0)
        assert value(flushed, "s3d_journal_pending_bytes") == 0
        assert value(flushed, "s3d_journal_uploads_total") >= 1
        assert value(flushed, "s3d_journal_dead_letters") == 0

        # The remote refuses an upload for good: a dead letter, and a remote error counted.
        relay.inject(Fault("PUT", f"/{bucket}/refused", status=403, code="AccessDenied"))
        s3.put_object(Bucket=bucket, Key="refused", Body=b"x")
        dead = eventually(url, lambda s: value(s, "s3d_journal_dead_letters") == 1)
        assert value(dead, "s3d_journal_dead_lettered_total") == 1
        assert (
            value(dead, "s3d_remote_call_errors_total", operation="PutObject", code="AccessDenied")
            == 1
        )
        assert value(dead, "s3d_remote_unavailable") == 0  # a refusal is an answer

        # The remote goes away: a cold read fails, and the remote is marked unavailable.
        relay.__exit__()
        with pytest.raises(ClientError):
            s3.get_object(Bucket=bucket, Key="never-read")
        down = scrape(url)
        assert value(down, "s3d_remote_unavailable") == 1
        assert value(down, "s3d_remote_call_errors_total", code="ServiceUnavailable") >= 1


def test_labels_name_no_bucket_and_no_key(s3d: DaemonThread, bucket: str) -> None:
    key = f"secret-looking-key-{uuid.uuid4().hex}"
    s3 = client(s3d.endpoint_url)
    s3.put_object(Bucket=bucket, Key=key, Body=b"v")
    s3.get_object(Bucket=bucket, Key=key)
    status, _, body = send("GET", f"{s3d.endpoint_url}/_s3d/metrics", {})
    assert status == 200
    text = body.decode()
    assert bucket not in text
    assert key not in text
    assert "s3d_requests_total" in text
    assert "s3d_cache_reads_total" in text
    # Write-through: no journal, so no journal metrics (rather than zeros that look healthy).
    assert "s3d_journal_" not in text


def test_bearer_token_is_asked_when_configured(remote_url: str, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("# scrapers\nright-token\n")
    settings = daemon_settings(remote_url, tmp_path / "data")
    settings = dataclasses.replace(settings, metrics=MetricsSettings(bearer_token_file=tokens))
    with DaemonThread(settings) as daemon:
        url = f"{daemon.endpoint_url}/_s3d/metrics"
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": "right-token"},
        ):
            status, answered, body = send("GET", url, headers)
            assert status == 401, (headers, status)
            assert answered["www-authenticate"].startswith("Bearer"), answered
            assert b"<Code>AccessDenied</Code>" in body
            assert b"s3d_" not in body
            assert "x-amz-request-id" in answered
        assert "s3d_requests_total" in names(scrape(daemon.endpoint_url, token="right-token"))
        # The health endpoints stay open: the kubelet has no token.
        assert send("GET", f"{daemon.endpoint_url}/_s3d/health/ready", {})[0] == 200


def test_metrics_can_be_turned_off(remote_url: str, tmp_path: Path) -> None:
    settings = daemon_settings(remote_url, tmp_path / "data")
    settings = dataclasses.replace(settings, metrics=MetricsSettings(enabled=False))
    with DaemonThread(settings) as daemon:
        status, _, body = send("GET", f"{daemon.endpoint_url}/_s3d/metrics", {})
        # Not served: the path is an admin command like any other, and asks for a signature.
        assert status == 403, body
        assert send("GET", f"{daemon.endpoint_url}/_s3d/health/live", {})[0] == 200
