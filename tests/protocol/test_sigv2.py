"""SigV2 verification against botocore's own signers (HmacV1Auth for headers, HmacV1QueryAuth
for the presigned URLs boto3 hands out by default), tampering, expiry, clock skew and
malformed claims."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.session
import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

from s3d.protocol import sigv2
from s3d.protocol.errors import S3Error
from s3d.protocol.sigv4 import SignedRequest

SECRET = "wJalr/XUtnF+EMI/K7MDENG%bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIDS3DTEST"
CREDENTIALS = Credentials(KEY_ID, SECRET)
NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
DATE = format_datetime(NOW, usegmt=True)  # "Tue, 02 Jan 2024 03:04:05 GMT"
EXPIRES = int(NOW.timestamp()) + 3600


def wire(prepared: AWSPreparedRequest) -> SignedRequest:
    """What s3d sees of a request botocore prepared: path and query as sent, lower-case
    headers, and the Host header http.client adds."""
    parts = urlsplit(prepared.url)
    headers = [
        (name.lower(), value.decode() if isinstance(value, bytes) else value)
        for name, value in prepared.headers.items()
    ]
    headers.insert(0, ("host", parts.netloc))
    return SignedRequest(prepared.method, parts.path, parts.query, tuple(headers))


def signed(
    method: str,
    path: str,
    query: list[tuple[str, str]] | str | None = None,
    headers: dict[str, str] | None = None,
    *,
    presign: bool = False,
    credentials: Credentials = CREDENTIALS,
    host: str = "s3.example.com",
    auth_path: str | None = None,
) -> SignedRequest:
    """Sign with botocore's SigV2 signers at ``NOW``; return the request as received."""
    url = f"https://{host}{path}"
    if query:
        url += "?" + (query if isinstance(query, str) else percent_encode_sequence(query))
    request = AWSRequest(method, url, headers=dict(headers or {}))
    request.auth_path = auth_path
    signer = HmacV1QueryAuth(credentials, expires=3600) if presign else HmacV1Auth(credentials)
    when = str(EXPIRES) if presign else DATE
    with mock.patch.object(type(signer), "_get_date", return_value=when):
        signer.add_auth(request)
    req = wire(request.prepare())
    if presign:
        # botocore leaves the headers it moved into the URL on the request; whoever is handed
        # the URL sends none of them.
        kept = tuple((n, v) for n, v in req.headers if not n.startswith("x-amz-"))
        req = dataclasses.replace(req, headers=kept)
    return req


def authenticate(
    req: SignedRequest,
    now: datetime = NOW,
    secret: str = SECRET,
    bucket: str | None = "bucket",
    virtual_host: bool = False,
) -> sigv2.V2Authorization:
    auth = sigv2.parse_v2(req)
    assert auth is not None
    sigv2.check_time_v2(req, auth, now)
    sigv2.verify_v2(req, auth, secret, bucket, virtual_host)
    return auth


def failure(call: Callable[[], Any]) -> S3Error:
    with pytest.raises(S3Error) as caught:
        call()
    return caught.value


def mismatch(req: SignedRequest, **kwargs: Any) -> S3Error:
    error = failure(lambda: authenticate(req, **kwargs))
    assert (error.error_code, error.http_status) == ("SignatureDoesNotMatch", 403)
    return error


PRESIGN = pytest.mark.parametrize("presign", [False, True], ids=["header", "presigned"])


# ---------------------------------------------------------------------------------------------
# What botocore signs verifies.


@PRESIGN
def test_botocore_path_style(presign: bool) -> None:
    auth = authenticate(signed("GET", "/bucket/key", presign=presign))
    assert (auth.access_key_id, auth.presigned) == (KEY_ID, presign)
    assert auth.expires == (EXPIRES if presign else None)


KEYS = [
    "plain",
    "with space",
    "plus+sign",
    "ünïcödé/日本語",
    "😀 emoji",
    "percent%literal",
    "a/../b",
    "a//b",
    "~tilde-_.",
    "!$'()*,;:@[]=&",
    "question?hash#",
]


@PRESIGN
@pytest.mark.parametrize("key", KEYS)
def test_botocore_keys(key: str, presign: bool) -> None:
    # botocore's serializer encodes keys this way ({Key+}: "/" and "~" left bare).
    authenticate(signed("GET", "/bucket/" + percent_encode(key, safe="/~"), presign=presign))


@PRESIGN
@pytest.mark.parametrize(
    "query",
    [
        [("acl", "")],
        [("uploadId", "abc/def+ghi=="), ("partNumber", "1")],
        [("partNumber", "1"), ("uploadId", "abc")],
        [("response-content-type", "text/plain; charset=utf-8"), ("response-expires", "0")],
        [("versionId", "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo")],
        [("tagging", ""), ("versionId", "v")],
        [("prefix", "not signed"), ("max-keys", "5"), ("uploads", "")],
        [("delete", "")],
        [("select", ""), ("select-type", "2")],
    ],
)
def test_botocore_subresources(query: list[tuple[str, str]], presign: bool) -> None:
    method = "POST" if ("delete", "") in query or ("select", "") in query else "GET"
    authenticate(signed(method, "/bucket/key", query, presign=presign))


def test_subresources_in_the_resource() -> None:
    req = signed("GET", "/bucket/key", "uploadId=a%2Bb&prefix=p&partNumber=2&acl")
    auth = sigv2.parse_v2(req)
    assert auth is not None
    resource = sigv2.string_to_sign_v2(req, auth, "bucket", False).rsplit("\n", 1)[1]
    assert resource == "/bucket/key?acl&partNumber=2&uploadId=a+b"


def test_botocore_headers() -> None:
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
        "X-Amz-Meta-Spaced": "  several   inner    spaces  ",
        "x-amz-storage-class": "STANDARD",
        "x-amz-acl": "private",
    }
    req = signed("PUT", "/bucket/key", headers=headers)
    auth = sigv2.parse_v2(req)
    assert auth is not None
    to_sign = sigv2.string_to_sign_v2(req, auth, "bucket", False)
    assert to_sign == (
        "PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/plain; charset=utf-8\n" + DATE + "\n"
        "x-amz-acl:private\nx-amz-meta-spaced:several   inner    spaces\n"
        "x-amz-storage-class:STANDARD\n/bucket/key"
    )
    authenticate(req)


def test_repeated_amz_headers_are_joined() -> None:
    req = SignedRequest(
        "GET",
        "/bucket/key",
        "",
        (("date", DATE), ("x-amz-meta-a", "1"), ("x-amz-meta-b", "x"), ("x-amz-meta-a", " 2 ")),
    )
    auth = sigv2.V2Authorization(KEY_ID, "sig", presigned=False)
    assert sigv2.string_to_sign_v2(req, auth, None, False) == (
        "GET\n\n\n" + DATE + "\nx-amz-meta-a:1,2\nx-amz-meta-b:x\n/bucket/key"
    )


def test_x_amz_date_replaces_date_in_the_string_to_sign() -> None:
    # As the SigV2 specification has it: with x-amz-date, the Date line is empty.
    req = SignedRequest(
        "GET", "/bucket/k", "", (("date", "ignored"), ("x-amz-date", DATE))
    )  # fmt: skip
    auth = sigv2.V2Authorization(KEY_ID, "sig", presigned=False)
    assert sigv2.string_to_sign_v2(req, auth, None, False) == (
        "GET\n\n\n\nx-amz-date:" + DATE + "\n/bucket/k"
    )
    sigv2.check_time_v2(req, auth, NOW)


@PRESIGN
def test_session_token(presign: bool) -> None:
    credentials = Credentials(KEY_ID, SECRET, token="FwoGZXIvYXdzEJr//////////token+/=")
    req = signed("GET", "/bucket/key", credentials=credentials, presign=presign)
    if presign:
        # The token travels in the query, and is signed as if it were a header.
        assert "x-amz-security-token=" in req.raw_query
        assert not any(name == "x-amz-security-token" for name, _ in req.headers)
    authenticate(req)


# ---------------------------------------------------------------------------------------------
# Real clients.


def _capture(config: Config, operation: str, **params: Any) -> SignedRequest:
    session = botocore.session.get_session()
    client = session.create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url="https://s3.example.test",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=config,
    )
    captured: list[SignedRequest] = []

    class _Empty:
        def stream(self, **_: object) -> Any:
            yield b""

    def before_send(request: AWSPreparedRequest, **_: object) -> AWSResponse:
        captured.append(wire(request))
        return AWSResponse(request.url, 200, {}, _Empty())

    client.meta.events.register("before-send.s3", before_send)
    getattr(client, operation)(**params)
    return captured[-1]


def test_client_with_sigv2_headers_put_object() -> None:
    config = Config(signature_version="s3", s3={"addressing_style": "path"})
    req = _capture(
        config, "put_object", Bucket="bucket", Key="a b+ü", Body=b"hi", Metadata={"k": "v"}
    )
    assert dict(req.headers)["authorization"].startswith("AWS ")
    authenticate(req, now=datetime.now(UTC))


def test_client_with_sigv2_headers_virtual_hosted() -> None:
    config = Config(signature_version="s3", s3={"addressing_style": "virtual"})
    req = _capture(config, "get_object_acl", Bucket="bucket", Key="dir/key")
    assert dict(req.headers)["host"] == "bucket.s3.example.test"
    assert req.raw_path == "/dir/key"
    authenticate(req, now=datetime.now(UTC), virtual_host=True)


def test_boto3_default_presigned_urls_are_sigv2_and_verify() -> None:
    client = boto3.session.Session(
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="us-east-1"
    ).client("s3", endpoint_url="http://127.0.0.1:9000")
    for method, params, headers in [
        ("get_object", {"Bucket": "bucket", "Key": "a b/ü+x"}, ()),
        (
            "get_object",
            {"Bucket": "bucket", "Key": "k", "ResponseContentType": "text/csv"},
            (),
        ),
        (
            "put_object",
            {"Bucket": "bucket", "Key": "k", "ContentType": "text/plain", "ACL": "private"},
            (("content-type", "text/plain"),),
        ),
    ]:
        url = client.generate_presigned_url(method, Params=params, ExpiresIn=600)
        parts = urlsplit(url)
        assert "AWSAccessKeyId=" in parts.query
        http_method = "PUT" if method == "put_object" else "GET"
        req = SignedRequest(
            http_method, parts.path, parts.query, (("host", parts.netloc), *headers)
        )
        auth = authenticate(req, now=datetime.now(UTC))
        assert auth.presigned


# ---------------------------------------------------------------------------------------------
# Tampering.


@PRESIGN
@pytest.mark.parametrize(
    "change",
    [
        lambda r: dataclasses.replace(r, method="DELETE"),
        lambda r: dataclasses.replace(r, raw_path="/bucket/other"),
        lambda r: dataclasses.replace(r, raw_path="/bucket/key%20"),
        lambda r: dataclasses.replace(r, raw_query=r.raw_query.replace("acl", "policy")),
        lambda r: dataclasses.replace(r, raw_query=r.raw_query + "&versionId=v"),
        lambda r: dataclasses.replace(r, headers=(*r.headers, ("x-amz-meta-added", "1"))),
        lambda r: dataclasses.replace(r, headers=(*r.headers, ("content-type", "text/html"))),
        lambda r: dataclasses.replace(r, headers=(*r.headers, ("content-md5", "AAAA"))),
    ],
    ids=["method", "path", "path-encoding", "subresource", "version", "amz", "type", "md5"],
)
def test_tampering(presign: bool, change: Callable[[SignedRequest], SignedRequest]) -> None:
    req = signed("GET", "/bucket/key", [("acl", "")], presign=presign)
    authenticate(req)
    error = mismatch(change(req))
    assert error.details["AWSAccessKeyId"] == KEY_ID
    assert SECRET not in str(error.details)


def test_tampered_date_or_expires() -> None:
    req = signed("GET", "/bucket/key")
    later = format_datetime(NOW + timedelta(seconds=1), usegmt=True)
    moved = tuple((n, later if n == "date" else v) for n, v in req.headers)
    mismatch(dataclasses.replace(req, headers=moved))
    presigned = signed("GET", "/bucket/key", presign=True)
    extended = presigned.raw_query.replace(f"Expires={EXPIRES}", f"Expires={EXPIRES + 3600}")
    mismatch(dataclasses.replace(presigned, raw_query=extended))


def test_wrong_secret_and_signature() -> None:
    req = signed("GET", "/bucket/key")
    error = mismatch(req, secret="another-secret")
    auth = sigv2.parse_v2(req)
    assert auth is not None
    assert error.details == {
        "AWSAccessKeyId": KEY_ID,
        "StringToSign": sigv2.string_to_sign_v2(req, auth, "bucket", False),
        "SignatureProvided": auth.signature,
    }
    forged = tuple(
        (n, f"AWS {KEY_ID}:{'A' * 27}=" if n == "authorization" else v) for n, v in req.headers
    )
    mismatch(dataclasses.replace(req, headers=forged))


def test_non_ascii_signature_is_a_mismatch_not_a_crash() -> None:
    req = signed("GET", "/bucket/key", presign=True)
    query = req.raw_query.replace("Signature=", "Signature=%C3%A9")
    mismatch(dataclasses.replace(req, raw_query=query))
    header = SignedRequest("GET", "/bucket/k", "", (("date", DATE), ("authorization", "AWS k:é")))
    mismatch(header)


def test_header_bytes_that_are_not_utf8_are_a_mismatch_not_a_crash() -> None:
    req = signed("GET", "/bucket/key")
    mismatch(dataclasses.replace(req, headers=(*req.headers, ("x-amz-meta-raw", "\udcff"))))


def test_unsigned_query_parameters_do_not_matter() -> None:
    # SigV2 signs only the sub-resources: other parameters may be added (its known weakness).
    req = signed("GET", "/bucket/key", presign=True)
    authenticate(dataclasses.replace(req, raw_query=req.raw_query + "&prefix=x&v=2"))


def test_hoisted_header_sent_as_a_header_too() -> None:
    credentials = Credentials(KEY_ID, SECRET, token="tok")
    req = signed("GET", "/bucket/key", credentials=credentials, presign=True)
    authenticate(dataclasses.replace(req, headers=(*req.headers, ("x-amz-security-token", "tok"))))
    other = (*req.headers, ("x-amz-security-token", "other"))
    mismatch(dataclasses.replace(req, headers=other))


# ---------------------------------------------------------------------------------------------
# Virtual-hosted style.


@PRESIGN
@pytest.mark.parametrize(("path", "auth_path"), [("/key", "/bucket/key"), ("/", "/bucket/")])
def test_virtual_hosted_canonical_resource(presign: bool, path: str, auth_path: str) -> None:
    req = signed(
        "GET", path, host="bucket.s3.example.com", auth_path=auth_path, presign=presign
    )  # fmt: skip
    authenticate(req, bucket="bucket", virtual_host=True)
    auth = sigv2.parse_v2(req)
    assert auth is not None
    assert sigv2.string_to_sign_v2(req, auth, "bucket", True).endswith("\n" + auth_path)
    mismatch(req, bucket="bucket", virtual_host=False)
    mismatch(req, bucket="other", virtual_host=True)


# ---------------------------------------------------------------------------------------------
# Time.


def test_presigned_expiry() -> None:
    req = signed("GET", "/bucket/key", presign=True)
    authenticate(req, now=NOW + timedelta(seconds=3600))
    # A presigned URL has no start: used before it was signed, it still verifies.
    authenticate(req, now=NOW - timedelta(days=30))
    error = failure(lambda: authenticate(req, now=NOW + timedelta(seconds=3601)))
    assert (error.error_code, error.http_status, error.message) == (
        "AccessDenied",
        403,
        "Request has expired",
    )
    assert error.details == {
        "Expires": "2024-01-02T04:04:05Z",
        "ServerTime": "2024-01-02T04:04:06Z",
    }


@pytest.mark.parametrize(
    "offset", [timedelta(0), timedelta(minutes=15), -timedelta(minutes=15)], ids=str
)
def test_date_within_skew(offset: timedelta) -> None:
    authenticate(signed("GET", "/bucket/key"), now=NOW + offset)


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=15, seconds=1), -timedelta(minutes=16)], ids=str
)
def test_date_too_skewed(offset: timedelta) -> None:
    error = failure(lambda: authenticate(signed("GET", "/bucket/key"), now=NOW + offset))
    assert (error.error_code, error.http_status) == ("RequestTimeTooSkewed", 403)
    assert error.details == {
        "RequestTime": DATE,
        "ServerTime": (NOW + offset).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "MaxAllowedSkewMilliseconds": "900000",
    }


def test_naive_now_is_utc() -> None:
    authenticate(signed("GET", "/bucket/key"), now=NOW.replace(tzinfo=None))
    authenticate(signed("GET", "/bucket/key", presign=True), now=NOW.replace(tzinfo=None))


def test_x_amz_date_is_the_clock_when_present() -> None:
    stale = format_datetime(NOW - timedelta(hours=2), usegmt=True)
    req = SignedRequest("GET", "/b/k", "", (("date", stale), ("x-amz-date", DATE)))
    sigv2.check_time_v2(req, sigv2.V2Authorization(KEY_ID, "s", False), NOW)


@pytest.mark.parametrize(
    "headers",
    [(), (("date", "yesterday"),), (("x-amz-date", "20240102T030405Z"),), (("date", ""),)],
)
def test_missing_or_bad_date(headers: tuple[tuple[str, str], ...]) -> None:
    req = SignedRequest("GET", "/b/k", "", headers)
    error = failure(
        lambda: sigv2.check_time_v2(req, sigv2.V2Authorization(KEY_ID, "s", False), NOW)
    )
    assert (error.error_code, error.http_status, error.message) == (
        "AccessDenied",
        403,
        "AWS authentication requires a valid Date or x-amz-date header",
    )


# ---------------------------------------------------------------------------------------------
# Claims.


def test_not_sigv2() -> None:
    assert sigv2.parse_v2(SignedRequest("GET", "/b/k", "", ())) is None
    sigv4 = (
        ("authorization", "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request"),
    )
    assert sigv2.parse_v2(SignedRequest("GET", "/b/k", "", sigv4)) is None
    presigned_v4 = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"
    assert sigv2.parse_v2(SignedRequest("GET", "/b/k", presigned_v4, ())) is None


@pytest.mark.parametrize(
    "value", ["AWS ", "AWS nocolon", "AWS :signature", "AWS keyid:", "AWS  : "]
)
def test_malformed_header(value: str) -> None:
    req = SignedRequest("GET", "/b/k", "", (("authorization", value), ("date", DATE)))
    error = failure(lambda: sigv2.parse_v2(req))
    assert (error.error_code, error.http_status, error.message) == (
        "AccessDenied",
        403,
        "The authorization header is malformed.",
    )


def test_header_claim() -> None:
    req = SignedRequest("GET", "/b/k", "", (("authorization", "AWS  AKID:c2ln=  "),))
    assert sigv2.parse_v2(req) == sigv2.V2Authorization("AKID", "c2ln=", presigned=False)


@pytest.mark.parametrize(
    "query",
    [
        "AWSAccessKeyId=AK&Signature=s",
        "AWSAccessKeyId=AK&Expires=1",
        "Signature=s&Expires=1",
        "Signature=s",
        "AWSAccessKeyId=AK&Signature=s&Expires=soon",
    ],
)
def test_incomplete_query_claim(query: str) -> None:
    error = failure(lambda: sigv2.parse_v2(SignedRequest("GET", "/b/k", query, ())))
    assert (error.error_code, error.http_status, error.message) == (
        "AccessDenied",
        403,
        "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
    )


def test_query_claim_is_decoded() -> None:
    query = "AWSAccessKeyId=AK%49D&Signature=ab%2Bc%2F%3D&Expires=1700000000"
    assert sigv2.parse_v2(SignedRequest("GET", "/b/k", query, ())) == sigv2.V2Authorization(
        "AKID", "ab+c/=", presigned=True, expires=1700000000
    )
