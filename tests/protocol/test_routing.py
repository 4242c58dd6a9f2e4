"""Routing: where a request points (bucket, key; path or virtual-hosted style) and which S3
action it names (method, level, query selector), fed literal Host headers, raw paths and
queries as they arrive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from s3d.protocol.errors import S3Error
from s3d.protocol.model import Headers
from s3d.protocol.routing import (
    NOT_SERVED,
    Target,
    check_served,
    is_auth_parameter,
    locate,
    parse_query,
    route,
)
from s3d.protocol.s3_api import PARAMETERS, SELECTORS

DOMAINS = ("s3.local", "s3.example.com")
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "PATCH")


def where(raw_path: str, host: str | None = "127.0.0.1:9000") -> Target:
    headers: Headers = (("host", host),) if host is not None else ()
    return locate(raw_path, headers, DOMAINS)


def action(method: str, raw_path: str, query: str = "", headers: Headers = ()) -> str:
    target = where(raw_path)
    return route(method, target, parse_query(query), (("host", "127.0.0.1"), *headers))


def failure(call: Callable[[], Any]) -> S3Error:
    with pytest.raises(S3Error) as caught:
        call()
    return caught.value


def code(call: Callable[[], Any]) -> tuple[str, int]:
    error = failure(call)
    return error.error_code, error.http_status


# ---------------------------------------------------------------------------------------------
# Path style.


@pytest.mark.parametrize("raw_path", ["/", ""])
def test_service(raw_path: str) -> None:
    assert where(raw_path) == Target(None, None)


@pytest.mark.parametrize("raw_path", ["/bucket", "/bucket/"])
def test_bucket_only(raw_path: str) -> None:
    assert where(raw_path) == Target("bucket", None)


@pytest.mark.parametrize(
    ("raw_path", "key"),
    [
        ("/bucket/key", "key"),
        ("/bucket/a/b/c.txt", "a/b/c.txt"),
        ("/bucket/../up", "../up"),
        ("/bucket/a/../b", "a/../b"),
        ("/bucket/./a", "./a"),
        ("/bucket/..", ".."),
        ("/bucket//leading", "/leading"),
        ("/bucket///", "//"),
        ("/bucket/a//b", "a//b"),
        ("/bucket/trailing/", "trailing/"),
        ("/bucket/a%2Fb", "a/b"),
        ("/bucket/%2F", "/"),
        ("/bucket/a%2F..%2Fb", "a/../b"),
        ("/bucket/a+b", "a+b"),
        ("/bucket/a%2Bb", "a+b"),
        ("/bucket/a%20b", "a b"),
        ("/bucket/caf%C3%A9", "café"),
        ("/bucket/日本/語", "日本/語"),
        ("/bucket/%F0%9F%98%80", "😀"),
        ("/bucket/100%25", "100%"),
        ("/bucket/question%3Fhash%23", "question?hash#"),
    ],
)
def test_keys_are_kept_as_s3_stores_them(raw_path: str, key: str) -> None:
    assert where(raw_path) == Target("bucket", key)


@pytest.mark.parametrize(
    "raw_path",
    [
        "/bucket/bad%FF",
        "/bucket/%C3",  # a truncated sequence
        "/bucket/%C0%AF",  # an overlong "/"
        "/bucket/%ED%A0%80",  # a UTF-16 surrogate encoded in UTF-8
        "/bucket/raw\udcff",  # a raw non-UTF-8 byte, as aiohttp hands it over
    ],
)
def test_key_not_utf8_is_invalid_uri(raw_path: str) -> None:
    assert code(lambda: where(raw_path)) == ("InvalidURI", 400)


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("k" * 1024, "k" * 1024),
        ("é" * 512, "%C3%A9" * 512),
        ("日" * 341 + "a", "%E6%97%A5" * 341 + "a"),
    ],
)
def test_key_of_1024_bytes_is_accepted(key: str, encoded: str) -> None:
    assert len(key.encode()) == 1024
    assert where("/bucket/" + encoded).key == key


@pytest.mark.parametrize("encoded", ["k" * 1025, "%C3%A9" * 512 + "a", "%E6%97%A5" * 342])
def test_key_over_1024_bytes_is_too_long(encoded: str) -> None:
    error = failure(lambda: where("/bucket/" + encoded))
    assert (error.error_code, error.http_status) == ("KeyTooLongError", 400)
    assert error.details["MaxSizeAllowed"] == "1024"
    assert int(error.details["Size"]) > 1024


@pytest.mark.parametrize("bucket", ["ab", "a", "-start", "end-", "has space", "x" * 256, "a!b"])
def test_bad_bucket_in_path(bucket: str) -> None:
    error = failure(lambda: where(f"/{bucket}/key"))
    assert (error.error_code, error.http_status) == ("InvalidBucketName", 400)
    assert error.details == {"BucketName": bucket}


def test_bucket_name_of_a_kilobyte_is_a_bucket_error_not_a_key_error() -> None:
    assert code(lambda: where("/" + "b" * 2000)) == ("InvalidBucketName", 400)


def test_legacy_bucket_names_are_reachable() -> None:
    assert where("/Legacy_Bucket/key") == Target("Legacy_Bucket", "key")


def test_percent_encoded_bucket_is_decoded() -> None:
    assert where("/my%2Dbucket/k") == Target("my-bucket", "k")
    assert code(lambda: where("/b%FFb/k")) == ("InvalidURI", 400)


def test_without_host_header_path_style_is_used() -> None:
    assert where("/bucket/key", host=None) == Target("bucket", "key")


# ---------------------------------------------------------------------------------------------
# Virtual-hosted style.


@pytest.mark.parametrize(
    ("host", "raw_path", "expected"),
    [
        ("bucket.s3.local", "/key", Target("bucket", "key", True)),
        ("bucket.s3.local:9000", "/a/b", Target("bucket", "a/b", True)),
        ("Bucket.S3.Local", "/Key", Target("bucket", "Key", True)),
        ("my.dotted.bucket.s3.local", "/k", Target("my.dotted.bucket", "k", True)),
        ("bucket.s3.example.com:443", "/k", Target("bucket", "k", True)),
        ("bucket.s3.local", "/", Target("bucket", None, True)),
        ("bucket.s3.local", "", Target("bucket", None, True)),
        ("bucket.s3.local", "//lead", Target("bucket", "/lead", True)),
        ("bucket.s3.local", "/a%2Fb", Target("bucket", "a/b", True)),
        ("bucket.s3.local", "/other/key", Target("bucket", "other/key", True)),
        # The base domain itself, another host, IP literals: path style.
        ("s3.local", "/bucket/key", Target("bucket", "key")),
        ("s3.local:9000", "/bucket", Target("bucket", None)),
        ("bucket.elsewhere.test", "/bk2/key", Target("bk2", "key")),
        ("xs3.local", "/bk2/key", Target("bk2", "key")),
        ("127.0.0.1:9000", "/bk2/key", Target("bk2", "key")),
        ("[::1]:9000", "/bk2/key", Target("bk2", "key")),
        ("[::1]", "/bk2/key", Target("bk2", "key")),
        ("[2001:db8::1]:443", "/", Target(None, None)),
    ],
)
def test_virtual_hosted_and_path_style(host: str, raw_path: str, expected: Target) -> None:
    assert where(raw_path, host=host) == expected


@pytest.mark.parametrize("host", ["a.s3.local", ".s3.local", "a!b.s3.local:80", "-x-.s3.local"])
def test_bad_bucket_in_host(host: str) -> None:
    assert code(lambda: where("/key", host=host)) == ("InvalidBucketName", 400)


def test_virtual_hosted_key_checks_apply() -> None:
    assert code(lambda: where("/%FF", host="bucket.s3.local")) == ("InvalidURI", 400)
    long_key = "/" + "k" * 1025
    assert code(lambda: where(long_key, host="bucket.s3.local")) == ("KeyTooLongError", 400)


# ---------------------------------------------------------------------------------------------
# Query parsing.


def test_query_plus_and_percent_twenty_are_spaces() -> None:
    assert parse_query("prefix=a+b%20c%2Bd&delimiter=%2F") == (
        ("prefix", "a b c+d"),
        ("delimiter", "/"),
    )


def test_query_keeps_order_duplicates_and_valueless_words() -> None:
    assert parse_query("&b=2&&a&a=1&c=&") == (("b", "2"), ("a", ""), ("a", "1"), ("c", ""))


def test_query_names_are_decoded_and_values_keep_equals() -> None:
    assert parse_query("response-content-type=text%2Fplain&x%2Dy=a=b") == (
        ("response-content-type", "text/plain"),
        ("x-y", "a=b"),
    )


def test_query_unicode() -> None:
    assert parse_query("prefix=caf%C3%A9%2F%E6%97%A5") == (("prefix", "café/日"),)


@pytest.mark.parametrize("raw", ["prefix=%FF", "%C3=x", "prefix=\udcff"])
def test_query_not_utf8_is_invalid_uri(raw: str) -> None:
    assert code(lambda: parse_query(raw)) == ("InvalidURI", 400)


def test_query_empty() -> None:
    assert parse_query("") == ()


# ---------------------------------------------------------------------------------------------
# Naming the action: service, bucket and object level without a selector.


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_service_reads_list_buckets(method: str) -> None:
    assert action(method, "/") == "ListBuckets"


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
def test_service_other_methods_are_not_allowed(method: str) -> None:
    error = failure(lambda: action(method, "/"))
    assert (error.error_code, error.http_status) == ("MethodNotAllowed", 405)
    assert error.details == {"Method": method, "ResourceType": "SERVICE"}


@pytest.mark.parametrize(
    ("method", "query", "expected"),
    [
        ("GET", "", "ListObjects"),
        ("GET", "list-type=2", "ListObjectsV2"),
        ("GET", "list-type=2&prefix=a&delimiter=%2F", "ListObjectsV2"),
        ("GET", "prefix=a&max-keys=5&marker=m", "ListObjects"),
        # Only list-type=2 is V2, and the first list-type decides.
        ("GET", "list-type=1", "ListObjects"),
        ("GET", "list-type=bogus", "ListObjects"),
        ("GET", "list-type", "ListObjects"),
        ("GET", "list-type=2&list-type=1", "ListObjectsV2"),
        ("GET", "list-type=1&list-type=2", "ListObjects"),
        ("PUT", "", "CreateBucket"),
        ("HEAD", "", "HeadBucket"),
        ("DELETE", "", "DeleteBucket"),
        ("POST", "", "PostObject"),
    ],
)
def test_bucket_actions(method: str, query: str, expected: str) -> None:
    assert action(method, "/bucket", query) == expected


def test_bucket_patch_is_not_allowed() -> None:
    error = failure(lambda: action("PATCH", "/bucket"))
    assert (error.error_code, error.http_status) == ("MethodNotAllowed", 405)
    assert error.details == {"Method": "PATCH", "ResourceType": "BUCKET"}


COPY = (("x-amz-copy-source", "/src/key"),)


@pytest.mark.parametrize(
    ("method", "query", "headers", "expected"),
    [
        ("GET", "", (), "GetObject"),
        ("GET", "versionId=v1&partNumber=2", (), "GetObject"),
        ("GET", "response-content-type=text%2Fplain", (), "GetObject"),
        ("GET", "uploadId=abc", (), "ListParts"),
        ("GET", "uploadId=abc&max-parts=2&part-number-marker=1", (), "ListParts"),
        ("HEAD", "", (), "HeadObject"),
        ("HEAD", "partNumber=1", (), "HeadObject"),
        ("HEAD", "uploadId=abc", (), "HeadObject"),
        ("PUT", "", (), "PutObject"),
        ("PUT", "", COPY, "CopyObject"),
        ("PUT", "partNumber=1&uploadId=abc", (), "UploadPart"),
        ("PUT", "uploadId=abc&partNumber=1", COPY, "UploadPartCopy"),
        ("PUT", "uploadId=abc", (), "UploadPart"),
        ("PUT", "partNumber=3", (), "UploadPart"),
        ("DELETE", "", (), "DeleteObject"),
        ("DELETE", "versionId=v1", (), "DeleteObject"),
        ("DELETE", "uploadId=abc", (), "AbortMultipartUpload"),
        ("POST", "uploadId=abc", (), "CompleteMultipartUpload"),
        ("POST", "uploads", (), "CreateMultipartUpload"),
    ],
)
def test_object_actions(method: str, query: str, headers: Headers, expected: str) -> None:
    assert action(method, "/bucket/key", query, headers) == expected


@pytest.mark.parametrize("method", ["POST", "PATCH", "OPTIONS"])
def test_object_methods_without_an_operation(method: str) -> None:
    # POST on a key is only CompleteMultipartUpload (uploadId) or a selector; S3 answers 405.
    error = failure(lambda: action(method, "/bucket/key"))
    assert (error.error_code, error.http_status) == ("MethodNotAllowed", 405)
    assert error.details == {"Method": method, "ResourceType": "OBJECT"}


def test_post_object_form_upload_is_not_served() -> None:
    name = action("POST", "/bucket")
    error = failure(lambda: check_served(name))
    assert (error.error_code, error.http_status) == ("NotImplemented", 501)
    assert error.details == {"Operation": "PostObject"}


# ---------------------------------------------------------------------------------------------
# Selectors: every one in S3's table, each method.


def _selector_cases() -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [
        (level, word, method, names)
        for (level, word), methods in sorted(SELECTORS.items())
        for method, names in sorted(methods.items())
    ]


@pytest.mark.parametrize(("level", "word", "method", "names"), _selector_cases())
def test_every_selector_names_one_of_its_operations(
    level: str, word: str, method: str, names: tuple[str, ...]
) -> None:
    path = "/bucket" if level == "bucket" else "/bucket/some/key"
    assert action(method, path, word) in names
    assert action(method, path, f"{word}=") in names  # "?acl=" is the same selector


@pytest.mark.parametrize(
    ("level", "word", "method"),
    [
        (level, word, method)
        for (level, word), methods in sorted(SELECTORS.items())
        for method in METHODS
        if method not in methods
    ],
)
def test_a_selector_with_another_method_is_not_allowed(level: str, word: str, method: str) -> None:
    path = "/bucket" if level == "bucket" else "/bucket/key"
    error = failure(lambda: action(method, path, word))
    assert (error.error_code, error.http_status) == ("MethodNotAllowed", 405)
    assert error.details == {"Method": method, "ResourceType": level.upper()}


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/bkt", "analytics", "ListBucketAnalyticsConfigurations"),
        ("GET", "/bkt", "analytics&id=report", "GetBucketAnalyticsConfiguration"),
        ("GET", "/bkt", "id=report&analytics", "GetBucketAnalyticsConfiguration"),
        ("GET", "/bkt", "inventory&continuation-token=t", "ListBucketInventoryConfigurations"),
        ("GET", "/bkt", "metrics&id=m", "GetBucketMetricsConfiguration"),
        ("GET", "/bkt", "intelligent-tiering", "ListBucketIntelligentTieringConfigurations"),
        ("GET", "/bkt/k", "annotation", "ListObjectAnnotations"),
        ("GET", "/bkt/k", "annotation&annotationName=n", "GetObjectAnnotation"),
        ("GET", "/bkt", "lifecycle", "GetBucketLifecycleConfiguration"),
        ("PUT", "/bkt", "lifecycle", "PutBucketLifecycleConfiguration"),
        ("GET", "/bkt", "notification", "GetBucketNotificationConfiguration"),
        ("PUT", "/bkt", "notification", "PutBucketNotificationConfiguration"),
        ("POST", "/bkt/k", "select&select-type=2", "SelectObjectContent"),
        ("POST", "/bkt", "delete", "DeleteObjects"),
        ("GET", "/bkt", "uploads&prefix=p&max-uploads=3", "ListMultipartUploads"),
        ("GET", "/bkt", "versions&key-marker=k&version-id-marker=v", "ListObjectVersions"),
        ("GET", "/bkt/k", "tagging&versionId=v", "GetObjectTagging"),
        ("PUT", "/bkt", "tagging", "PutBucketTagging"),
        ("PUT", "/bkt/k", "tagging", "PutObjectTagging"),
        ("GET", "/bkt", "location", "GetBucketLocation"),
        ("GET", "/bkt", "session", "CreateSession"),
        ("PUT", "/bkt/k", "renameObject", "RenameObject"),
        # A selector wins over the arguments that name multipart operations.
        ("PUT", "/bkt/k", "acl&uploadId=u", "PutObjectAcl"),
    ],
)
def test_selector_choice(method: str, path: str, query: str, expected: str) -> None:
    assert action(method, path, query) == expected


@pytest.mark.parametrize(
    ("path", "word"), [("/bkt", "acl"), ("/bkt", "versioning"), ("/bkt/k", "acl")]
)
def test_head_with_a_selector_is_not_allowed(path: str, word: str) -> None:
    # No sub-resource has a HEAD form.
    assert code(lambda: action("HEAD", path, word)) == ("MethodNotAllowed", 405)


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("/bkt", "versioning&acl", "acl, versioning"),
        ("/bkt", "uploads&versioning", "uploads, versioning"),
        ("/bkt", "versioning&tagging&acl", "acl, tagging, versioning"),
        ("/bkt/k", "tagging&acl=", "acl, tagging"),
    ],
)
def test_two_selectors_conflict(path: str, query: str, named: str) -> None:
    error = failure(lambda: action("GET", path, query))
    message = "Conflicting query string parameters: " + named
    assert (error.error_code, error.http_status, error.message) == ("InvalidArgument", 400, message)
    assert error.details == {"ArgumentName": "ResourceType", "ArgumentValue": named.split(",")[0]}


def test_the_same_selector_twice_is_one() -> None:
    assert action("GET", "/bkt", "acl&acl") == "GetBucketAcl"


def test_select_type_is_an_argument_not_a_second_selector() -> None:
    assert action("POST", "/bkt/k", "select-type=2&select") == "SelectObjectContent"


# ---------------------------------------------------------------------------------------------
# Unknown words, unknown parameters and authentication parameters.


@pytest.mark.parametrize(
    ("path", "query", "word"),
    [
        ("/bkt", "frobnicate", "frobnicate"),
        ("/bkt", "frobnicate=", "frobnicate"),
        ("/bkt", "prefix=a&frobnicate", "frobnicate"),
        ("/bkt", "acl&frobnicate", "frobnicate"),
        ("/bkt", "frobnicate&acl", "frobnicate"),
        ("/bkt/k", "nosuchsubresource", "nosuchsubresource"),
        # Selectors are case-sensitive; a bucket selector on a key is unknown there.
        ("/bkt", "Versioning", "Versioning"),
        ("/bkt/k", "versioning", "versioning"),
        ("/bkt/k", "delete", "delete"),
    ],
)
def test_unknown_valueless_word_is_not_implemented(path: str, query: str, word: str) -> None:
    error = failure(lambda: action("GET", path, query))
    assert (error.error_code, error.http_status) == ("NotImplemented", 501)
    assert error.details == {"Subresource": word}
    assert word in error.message


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/bkt", "v=2", "ListObjects"),
        ("/bkt", "cachebuster=123&list-type=2", "ListObjectsV2"),
        ("/bkt", "Versioning=1", "ListObjects"),
        ("/bkt/k", "v=2", "GetObject"),
        ("/bkt/k", "foo=bar&versionId=x", "GetObject"),
    ],
)
def test_unknown_parameters_with_values_are_ignored(path: str, query: str, expected: str) -> None:
    assert action("GET", path, query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240101%2Fus-east-1%2Fs3"
        "%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature=abc&X-Amz-Security-Token=t",
        "AWSAccessKeyId=AK&Signature=abc%3D&Expires=1700000000",
        "AWSAccessKeyId=AK&Signature=abc%3D&Expires=1700000000&x-amz-security-token=t",
        "x-id=GetObject",
        "x-id",
        "X-Amz-Signature",
        "x-amz-checksum-mode=ENABLED",
    ],
)
def test_authentication_parameters_are_ignored(query: str) -> None:
    assert action("GET", "/bkt/k", query) == "GetObject"
    assert action("GET", "/bkt", query) == "ListObjects"


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_valueless_arguments_are_not_unknown_words(name: str) -> None:
    assert action("GET", "/bkt/k", name) in ("GetObject", "ListParts")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("X-Amz-Signature", True),
        ("x-amz-signature", True),
        ("x-amz-security-token", True),
        ("AWSAccessKeyId", True),
        ("x-id", True),
        ("prefix", False),
        ("x-amz-acl", False),
    ],
)
def test_is_auth_parameter(name: str, expected: bool) -> None:
    assert is_auth_parameter(name) is expected


@pytest.mark.parametrize("name", sorted(NOT_SERVED))
def test_not_served_operations(name: str) -> None:
    error = failure(lambda: check_served(name))
    assert (error.error_code, error.http_status) == ("NotImplemented", 501)
    assert error.details == {"Operation": name}


@pytest.mark.parametrize("name", ["GetObject", "ListObjectsV2", "GetBucketVersioning"])
def test_served_operations_pass(name: str) -> None:
    check_served(name)
