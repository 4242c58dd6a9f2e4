"""The admin endpoint ``/_s3d/status`` on a real daemon: authenticated as S3 requests are,
S3 error XML when refused, and never in the way of an S3 request."""

from __future__ import annotations

import json
import logging
import urllib.parse
import uuid
from collections.abc import Iterator

import pytest

from s3d.cache.stats import CacheStats
from s3d.settings import CacheSettings
from tests.support import (
    ACCESS_KEY,
    DaemonThread,
    client,
    daemon_settings,
    s3_error_code,
    send,
    sign,
)

BASE_DOMAIN = "s3.admin.test"


@pytest.fixture(scope="module")
def daemon(remote_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonThread]:
    data_dir = tmp_path_factory.mktemp("admin-data")
    settings = daemon_settings(remote_url, data_dir, base_domains=(BASE_DOMAIN,))
    with DaemonThread(settings) as running:
        yield running


@pytest.fixture(scope="module")
def bucket(daemon: DaemonThread) -> str:
    name = f"adm-{uuid.uuid4().hex[:16]}"
    client(daemon.endpoint_url).create_bucket(Bucket=name)
    return name


def status_url(daemon: DaemonThread, path: str = "/_s3d/status") -> str:
    return daemon.endpoint_url + path


def signed_get(url: str, **kwargs: object) -> tuple[int, dict[str, str], bytes]:
    signed_url, headers = sign("GET", url, **kwargs)
    return send("GET", signed_url, headers)


def test_signed_get_answers_the_status_document(daemon: DaemonThread, remote_url: str) -> None:
    status, headers, body = signed_get(status_url(daemon))
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    assert len(headers["x-amz-request-id"]) == 16
    document = json.loads(body)
    assert set(document) >= {"version", "uptime_seconds", "endpoint", "remote", "cache"}
    assert document["endpoint"] == daemon.endpoint_url
    assert document["remote"] == remote_url
    assert isinstance(document["uptime_seconds"], int | float)
    assert document["uptime_seconds"] >= 0
    assert set(document["cache"]) == set(CacheStats().as_dict())
    assert document["cache"]["max_size"] == CacheSettings().max_size


def test_presigned_get_answers_too(daemon: DaemonThread) -> None:
    status, _, body = signed_get(status_url(daemon), presign_expires=60)
    assert status == 200, body
    assert "cache" in json.loads(body)


def test_unsigned_is_refused_with_s3_error_xml(daemon: DaemonThread) -> None:
    status, headers, body = send("GET", status_url(daemon), {})
    assert status == 403
    assert headers["content-type"] == "application/xml"
    assert s3_error_code(body) == "AccessDenied"
    request_id = headers["x-amz-request-id"]
    assert f"<RequestId>{request_id}</RequestId>".encode() in body
    assert b"<Resource>/_s3d/status</Resource>" in body


@pytest.mark.parametrize(
    ("key", "secret", "code"),
    [
        ("S3DUNKNOWNKEY0000001", "whatever", "InvalidAccessKeyId"),
        (ACCESS_KEY, "not-the-secret", "SignatureDoesNotMatch"),
    ],
)
def test_a_wrong_key_is_refused(daemon: DaemonThread, key: str, secret: str, code: str) -> None:
    status, headers, body = signed_get(status_url(daemon), key=key, secret=secret)
    assert (status, s3_error_code(body)) == (403, code)
    assert headers["x-amz-request-id"]
    assert b"not-the-secret" not in body


def test_commands_are_looked_up_only_once_authenticated(daemon: DaemonThread) -> None:
    unsigned, _, body = send("GET", status_url(daemon, "/_s3d/nothing-here"), {})
    assert (unsigned, s3_error_code(body)) == (403, "AccessDenied")
    status, _, body = signed_get(status_url(daemon, "/_s3d/nothing-here"))
    assert (status, s3_error_code(body)) == (404, "NoSuchAdminCommand")
    url, headers = sign("POST", status_url(daemon))
    status, answered, body = send("POST", url, headers)
    assert (status, s3_error_code(body)) == (405, "MethodNotAllowed")
    assert answered["allow"] == "GET"


def test_a_virtual_hosted_request_for_the_path_goes_to_s3(
    daemon: DaemonThread, bucket: str
) -> None:
    port = urllib.parse.urlsplit(daemon.endpoint_url).port

    def vhost_get(name: str) -> tuple[int, bytes]:
        host = f"{name}.{BASE_DOMAIN}:{port}"
        _, headers = sign("GET", f"http://{host}/_s3d/status", headers={"Host": host})
        status, _, body = send("GET", status_url(daemon), headers)  # Host says the bucket
        return status, body

    status, body = vhost_get(bucket)
    assert (status, s3_error_code(body)) == (404, "NoSuchKey"), body
    assert b"<Key>_s3d/status</Key>" in body
    status, body = vhost_get("no-such-bucket-admin")
    assert (status, s3_error_code(body)) == (404, "NoSuchBucket"), body


def test_path_style_bucket_requests_are_unaffected(daemon: DaemonThread, bucket: str) -> None:
    s3 = client(daemon.endpoint_url)
    s3.put_object(Bucket=bucket, Key="_s3d/status", Body=b"an ordinary key")
    status, _, body = signed_get(f"{daemon.endpoint_url}/{bucket}/_s3d/status")
    assert (status, body) == (200, b"an ordinary key")
    status, _, body = signed_get(f"{daemon.endpoint_url}/{bucket}?list-type=2")
    assert status == 200
    assert b"<Key>_s3d/status</Key>" in body
    # "/_s3d" alone names a bucket, which it cannot be: answered as S3 answered it before.
    status, _, body = signed_get(f"{daemon.endpoint_url}/_s3d")
    assert (status, s3_error_code(body)) == (400, "InvalidBucketName")


def test_admin_requests_are_access_logged(
    daemon: DaemonThread, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="s3d.access"):
        _, ok_headers, _ = signed_get(status_url(daemon))
        _, refused_headers, _ = send("GET", status_url(daemon), {})
    by_id = {r.request_id: r.__dict__ for r in caplog.records if r.name == "s3d.access"}
    ok = by_id[ok_headers["x-amz-request-id"]]
    assert (ok["path"], ok["status"], ok["action"], ok["principal"]) == (
        "/_s3d/status",
        200,
        "s3d:GetStatus",
        ACCESS_KEY,
    )
    assert ok["bytes"] > 0
    refused = by_id[refused_headers["x-amz-request-id"]]
    assert (refused["path"], refused["status"], refused["principal"]) == (
        "/_s3d/status",
        403,
        "-",
    )


def test_anonymous_status_only_where_configured(
    remote_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = daemon_settings(remote_url, tmp_path_factory.mktemp("anon"), anonymous="read")
    with DaemonThread(settings) as daemon:
        status, _, body = send("GET", status_url(daemon), {})
        assert status == 200
        assert "cache" in json.loads(body)
        # "read" is GET and HEAD only: a POST to the admin endpoint still needs a signature.
        status, _, body = send("POST", status_url(daemon), {})
        assert (status, s3_error_code(body)) == (403, "AccessDenied")
