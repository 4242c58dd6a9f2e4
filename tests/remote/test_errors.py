"""Remote failures become S3 errors: literal botocore error responses, then real dead ends."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from s3d.protocol import errors
from s3d.protocol import operations as ops
from s3d.remote.client import RemoteS3
from s3d.remote.embedded import EmbeddedRemote
from s3d.remote.errors import from_client_error, map_errors
from tests.remote.conftest import REMOTE_KEY, REMOTE_SECRET, remote_settings


def response(status: int, **error: str) -> dict[str, Any]:
    return {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "R"}}


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (404, {"Code": "NoSuchKey", "Message": "gone", "Key": "k"}, errors.NoSuchKey),
        (404, {"Code": "NoSuchBucket", "BucketName": "b"}, errors.NoSuchBucket),
        (404, {"Code": "NoSuchUpload"}, errors.NoSuchUpload),
        (409, {"Code": "BucketNotEmpty"}, errors.BucketNotEmpty),
        (400, {"Code": "InvalidPart"}, errors.InvalidPart),
        (412, {"Code": "PreconditionFailed", "Condition": "If-Match"}, errors.PreconditionFailed),
        (503, {"Code": "SlowDown"}, errors.SlowDown),
        (304, {"Code": "304", "Message": "Not Modified"}, errors.NotModified),
        (412, {"Code": "412"}, errors.PreconditionFailed),
        (403, {"Code": "403"}, errors.AccessDenied),
        (416, {"Code": "416"}, errors.InvalidRange),
        (400, {"Code": "400"}, errors.InvalidRequest),
    ],
)
def test_codes_and_statuses(status: int, error: dict[str, str], expected: type) -> None:
    mapped = from_client_error(response(status, **error), errors.NoSuchKey)
    assert type(mapped) is expected
    assert mapped.http_status == status


def test_details_are_kept_and_ids_dropped() -> None:
    mapped = from_client_error(
        response(
            400,
            Code="InvalidArgument",
            Message="bad",
            ArgumentName="x-amz-foo",
            ArgumentValue="1",
            RequestId="REQ",
            HostId="HOST",
        ),
        errors.NoSuchKey,
    )
    assert type(mapped) is errors.InvalidArgument
    assert mapped.message == "bad"
    assert mapped.details == {"ArgumentName": "x-amz-foo", "ArgumentValue": "1"}


def test_bodiless_404_is_named_by_the_call() -> None:
    assert type(from_client_error(response(404, Code="404"), errors.NoSuchKey)) is errors.NoSuchKey
    bucket = from_client_error(response(404, Code="404"), errors.NoSuchBucket)
    assert type(bucket) is errors.NoSuchBucket


def test_unknown_code_passes_with_its_status() -> None:
    mapped = from_client_error(
        response(409, Code="OperationAborted", Message="m"), errors.NoSuchKey
    )
    assert type(mapped) is errors.RemoteError
    assert (mapped.error_code, mapped.http_status, mapped.message) == ("OperationAborted", 409, "m")
    odd = from_client_error(response(301, Code="301"), errors.NoSuchKey)
    assert (odd.error_code, odd.http_status) == ("MovedPermanently", 301)


def test_refused_credentials_are_access_denied_without_signing_details() -> None:
    mapped = from_client_error(
        response(
            403,
            Code="SignatureDoesNotMatch",
            Message="The request signature we calculated does not match",
            AWSAccessKeyId=REMOTE_KEY,
            StringToSign="AWS4-HMAC-SHA256\n...",
            SignatureProvided="abc",
        ),
        errors.NoSuchKey,
    )
    assert type(mapped) is errors.AccessDenied
    assert mapped.details == {}
    assert REMOTE_KEY not in mapped.message
    assert "SignatureDoesNotMatch" in mapped.message


def test_map_errors_translates_botocore() -> None:
    with pytest.raises(errors.NoSuchKey), map_errors():
        raise ClientError(response(404, Code="NoSuchKey"), "GetObject")
    with pytest.raises(errors.ServiceUnavailable) as raised, map_errors():
        raise EndpointConnectionError(endpoint_url=f"http://{REMOTE_KEY}@example/")
    assert REMOTE_KEY not in raised.value.message
    with pytest.raises(errors.ServiceUnavailable) as raised, map_errors():
        raise NoCredentialsError()
    assert "credentials" in raised.value.message


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def assert_unreachable(url: str, **settings: object) -> str:
    started = time.monotonic()
    async with RemoteS3(remote_settings(url, max_attempts=1, **settings)) as remote:
        with pytest.raises(errors.ServiceUnavailable) as raised:
            await remote.list_objects(ops.ListObjects("some-bucket"))
        with pytest.raises(errors.ServiceUnavailable):
            await remote.forward(
                ops.Forwarded("GetBucketAcl", "GET", "b", None, (("acl", ""),)), None
            )
    # A hang guard, not a speed test: far below the defaults (60 s a connect or read), so the
    # timeouts configured here were the ones applied, however busy the machine is.
    assert time.monotonic() - started < 30
    message = raised.value.message
    assert "could not be reached" in message
    assert REMOTE_SECRET not in message
    assert REMOTE_KEY not in message
    assert url not in message
    return message


async def test_refused_connection_is_service_unavailable() -> None:
    message = await assert_unreachable(f"http://127.0.0.1:{closed_port()}")
    assert "connection failed" in message


async def test_stopped_embedded_remote_is_service_unavailable() -> None:
    async with EmbeddedRemote() as embedded:
        url = embedded.endpoint_url
    await assert_unreachable(url)


async def test_connect_timeout_is_service_unavailable() -> None:
    # A listener that never accepts: its backlog fills, then connections hang.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(4)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        try:
            message = await assert_unreachable(
                f"http://127.0.0.1:{port}", connect_timeout=0.3, read_timeout=0.5
            )
            assert "timed out" in message
        finally:
            for filler in fillers:
                filler.close()
