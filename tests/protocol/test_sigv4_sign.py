"""s3d's own SigV4 signer: what it signs verifies with s3d's verifier and equals botocore's."""

from __future__ import annotations

import datetime as dt
import hashlib
from unittest import mock
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given
from hypothesis import strategies as st

from s3d.protocol import sigv4
from s3d.protocol.errors import SignatureDoesNotMatch
from s3d.protocol.sigv4_sign import UNSIGNED_HEADERS, sign_headers

KEY, SECRET = "S3DSIGNERTEST0000001", "signer/secret+with=odd chars"
NOW = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


def botocore_headers(
    method: str,
    url: str,
    headers: dict[str, str],
    payload_hash: str,
    key: str,
    secret: str,
    region: str,
    now: dt.datetime,
) -> dict[str, str]:
    """What botocore's S3SigV4Auth adds to the same request (its clock and payload fixed)."""

    class Auth(S3SigV4Auth):
        def payload(self, request: AWSRequest) -> str:
            return payload_hash

    request = AWSRequest(method=method, url=url, headers=dict(headers))
    naive_utc = now.astimezone(dt.UTC).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive_utc):
        Auth(Credentials(key, secret), "s3", region).add_auth(request)
    return {
        name: request.headers[name]
        for name in ("X-Amz-Date", "X-Amz-Content-SHA256", "Authorization")
    }


def verify(
    method: str, url: str, headers: dict[str, str], added: dict[str, str], secret: str
) -> sigv4.SigningContext:
    """Run s3d's verifier over the request as it would arrive."""
    parts = urlsplit(url)
    sent = {name.lower(): value for name, value in {**headers, **added}.items()}
    sent.setdefault("host", parts.netloc)
    request = sigv4.SignedRequest(method, parts.path or "/", parts.query, tuple(sent.items()))
    auth = sigv4.parse_authorization(request)
    assert auth is not None
    assert auth.amz_date == added["X-Amz-Date"]
    return sigv4.verify(request, auth, secret)


def test_a_status_request_verifies_and_equals_botocore() -> None:
    url = "http://127.0.0.1:9333/_s3d/status"
    args = ("GET", url, {}, sigv4.EMPTY_SHA256, KEY, SECRET, "us-east-1", NOW)
    added = sign_headers(*args)
    assert added == botocore_headers(*args)
    assert added["X-Amz-Date"] == "20240506T070809Z"
    assert added["Authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={KEY}/20240506/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
    )
    context = verify("GET", url, {}, added, SECRET)
    assert context.scope == sigv4.Scope(KEY, "20240506", "us-east-1", "s3")
    assert context.amz_date == "20240506T070809Z"


def test_a_wrong_secret_does_not_verify() -> None:
    url = "http://127.0.0.1:9333/_s3d/status"
    added = sign_headers("GET", url, {}, sigv4.EMPTY_SHA256, KEY, "not-it", "us-east-1", NOW)
    with pytest.raises(SignatureDoesNotMatch):
        verify("GET", url, {}, added, SECRET)


def test_headers_signed_and_left_out() -> None:
    url = "https://s3d.example:443/bucket/a%2Bb%20c?uploads&x-id=1"
    headers = {
        "User-Agent": "s3d/1",
        "X-Amz-Meta-Note": "  two   spaces  ",
        "Content-Type": "text/plain",
        "X-Amz-Date": "19990101T000000Z",  # replaced by the signing time
        "Expect": "100-continue",
    }
    body_hash = hashlib.sha256(b"body").hexdigest()
    args = ("PUT", url, headers, body_hash, KEY, SECRET, "eu-west-1", NOW)
    added = sign_headers(*args)
    assert added == botocore_headers(*args)
    signed = added["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert signed == "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-note"
    # The default port is not part of the signed host, as http.client leaves it out.
    sent = {k: v for k, v in headers.items() if k != "X-Amz-Date"} | {"Host": "s3d.example"}
    verify("PUT", url, sent, added, SECRET)


def test_an_explicit_host_header_is_the_one_signed() -> None:
    url = "http://127.0.0.1:80/_s3d/status"
    headers = {"Host": "127.0.0.1:80"}
    added = sign_headers("GET", url, headers, sigv4.EMPTY_SHA256, KEY, SECRET, "us-east-1", NOW)
    verify("GET", url, headers, added, SECRET)
    without = sign_headers("GET", url, {}, sigv4.EMPTY_SHA256, KEY, SECRET, "us-east-1", NOW)
    assert without["Authorization"] != added["Authorization"]


def test_naive_times_are_utc() -> None:
    url = "http://127.0.0.1:9333/_s3d/status"
    naive = NOW.replace(tzinfo=None)
    other_zone = NOW.astimezone(dt.timezone(dt.timedelta(hours=5)))
    results = [
        sign_headers("GET", url, {}, sigv4.EMPTY_SHA256, KEY, SECRET, "us-east-1", now)
        for now in (NOW, naive, other_zone)
    ]
    assert results[0] == results[1] == results[2]


# Any request: the same signature as botocore, and s3d's verifier accepts it.

text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
header_names = st.from_regex(r"(x-amz-meta-)?[a-z][a-z0-9-]{0,10}", fullmatch=True).filter(
    lambda n: n not in UNSIGNED_HEADERS | {"host", "date", "x-amz-date", "x-amz-content-sha256"}
)
header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E))
payload_hashes = st.one_of(
    st.just(sigv4.UNSIGNED_PAYLOAD),
    st.binary(max_size=20).map(lambda b: hashlib.sha256(b).hexdigest()),
)


@given(
    method=st.sampled_from(["GET", "PUT", "HEAD", "DELETE", "POST"]),
    origin=st.sampled_from(["http://127.0.0.1:9333", "https://s3d.example", "http://[::1]:80"]),
    segments=st.lists(text, max_size=4),
    query=st.lists(st.tuples(text.filter(bool), text), max_size=4),
    headers=st.dictionaries(header_names, header_values, max_size=4),
    payload_hash=payload_hashes,
    key=st.from_regex(r"[A-Z0-9]{4,20}", fullmatch=True),
    secret=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
    region=st.sampled_from(["us-east-1", "eu-west-3", "local"]),
    now=st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31)),
)
def test_any_request_signs_as_botocore_and_verifies(
    method: str,
    origin: str,
    segments: list[str],
    query: list[tuple[str, str]],
    headers: dict[str, str],
    payload_hash: str,
    key: str,
    secret: str,
    region: str,
    now: dt.datetime,
) -> None:
    path = "/" + "/".join(quote(segment, safe="") for segment in segments)
    raw_query = "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in query)
    url = origin + path + (f"?{raw_query}" if raw_query else "")
    args = (method, url, headers, payload_hash, key, secret, region, now.replace(tzinfo=dt.UTC))
    added = sign_headers(*args)
    assert added == botocore_headers(*args)
    host = urlsplit(url).netloc.removesuffix(":80").removesuffix(":443")
    verify(method, url, {**headers, "Host": host}, added, secret)
