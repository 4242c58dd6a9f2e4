"""The selector and parameter tables equal what the installed botocore S3 model declares, so a
new S3 operation shows up here as a failing test rather than as a request silently misrouted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest

from s3d.protocol.s3_api import PARAMETERS, SELECTORS

_MODEL: Any = botocore.session.get_session().get_service_model("s3")


def _operations() -> Iterator[tuple[str, str, str, str]]:
    """(name, method, path, query) of every operation in the model's requestUri."""
    for name in _MODEL.operation_names:
        http = _MODEL.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        yield name, http["method"], path, query


def _level(path: str) -> str:
    if path.startswith("/{Bucket}/{Key+}"):
        return "object"
    if path.startswith("/{Bucket}"):
        return "bucket"
    return "service"


# Operations whose requestUri carries no valueless selector: routing names them from the
# method, the level and the arguments present (list-type, uploadId, x-amz-copy-source).
UNSELECTED = {
    ("service", "GET"): {"ListBuckets", "ListDirectoryBuckets"},
    ("bucket", "GET"): {"ListObjects", "ListObjectsV2"},
    ("bucket", "PUT"): {"CreateBucket"},
    ("bucket", "HEAD"): {"HeadBucket"},
    ("bucket", "DELETE"): {"DeleteBucket"},
    ("object", "GET"): {"GetObject", "ListParts"},
    ("object", "HEAD"): {"HeadObject"},
    ("object", "PUT"): {"PutObject", "CopyObject", "UploadPart", "UploadPartCopy"},
    ("object", "DELETE"): {"DeleteObject", "AbortMultipartUpload"},
    ("object", "POST"): {"CompleteMultipartUpload"},
    # Object Lambda's endpoint, not a bucket's: POST /WriteGetObjectResponse.
    ("service", "POST"): {"WriteGetObjectResponse"},
}


def model_selectors() -> dict[tuple[str, str], dict[str, tuple[str, ...]]]:
    table: dict[tuple[str, str], dict[str, list[str]]] = {}
    for name, method, path, query in _operations():
        words = [part for part in query.split("&") if part and "=" not in part]
        for word in words:
            table.setdefault((_level(path), word), {}).setdefault(method, []).append(name)
    return {
        key: {method: tuple(sorted(names)) for method, names in sorted(methods.items())}
        for key, methods in table.items()
    }


def model_unselected() -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for name, method, path, query in _operations():
        if not any(part and "=" not in part for part in query.split("&")):
            level = "service" if path == "/WriteGetObjectResponse" else _level(path)
            found.setdefault((level, method), set()).add(name)
    return found


def model_parameters() -> set[str]:
    names = set()
    for name, _, _, query in _operations():
        # Fixed values in the requestUri (list-type=2, select-type=2) are parameters too.
        names |= {part.partition("=")[0] for part in query.split("&") if "=" in part}
        shape = _MODEL.operation_model(name).input_shape
        if shape is None:
            continue
        for member in shape.members.values():
            if member.serialization.get("location") == "querystring":
                names.add(member.serialization["name"])
    return names


def test_selectors_equal_the_model() -> None:
    assert model_selectors() == SELECTORS


def test_each_selector_tuple_is_sorted() -> None:
    # The equality above relies on it; routing does not depend on the order.
    for methods in SELECTORS.values():
        for names in methods.values():
            assert list(names) == sorted(names)


def test_parameters_equal_the_model() -> None:
    assert model_parameters() == PARAMETERS


def test_operations_without_a_selector_are_the_ones_routing_names() -> None:
    assert model_unselected() == UNSELECTED


def test_no_name_is_both_a_selector_and_a_parameter() -> None:
    assert {word for _, word in SELECTORS} & PARAMETERS == set()


def test_every_model_operation_is_reachable() -> None:
    reachable = {name for methods in SELECTORS.values() for ns in methods.values() for name in ns}
    reachable |= {name for names in UNSELECTED.values() for name in names}
    assert reachable == set(_MODEL.operation_names)


@pytest.mark.parametrize(
    ("key", "method", "names"),
    [
        (("bucket", "versioning"), "GET", ("GetBucketVersioning",)),
        (("bucket", "delete"), "POST", ("DeleteObjects",)),
        (("object", "uploads"), "POST", ("CreateMultipartUpload",)),
        (("bucket", "uploads"), "GET", ("ListMultipartUploads",)),
        (("object", "tagging"), "DELETE", ("DeleteObjectTagging",)),
        (("bucket", "lifecycle"), "PUT", ("PutBucketLifecycle", "PutBucketLifecycleConfiguration")),
    ],
)
def test_well_known_rows(key: tuple[str, str], method: str, names: tuple[str, ...]) -> None:
    assert SELECTORS[key][method] == names
