"""The DRS 1.4 schema helper (drs_schema.py) against hand-written documents: it accepts what the
spec allows and, just as important, rejects what it does not — a validator that never fails would
let every DRS endpoint test pass."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.catalogue.drs_schema import SCHEMA_DIR, SCHEMAS, ValidationError, validate

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def drs_object() -> dict[str, Any]:
    """A blob as an s3d catalogue would serve it: every field DRS 1.4 defines for a blob."""
    return {
        "id": "b5c3cd0e-2a4e-5d1f-9f0e-6f1d3c2b1a00",
        "name": "reads.bam",
        "self_uri": "drs://drs.example.org/b5c3cd0e-2a4e-5d1f-9f0e-6f1d3c2b1a00",
        "size": 4096,
        "created_time": "2026-11-22T04:00:00Z",
        "updated_time": "2026-11-22T04:00:00.123+01:00",
        "version": "1",
        "mime_type": "application/octet-stream",
        "checksums": [{"checksum": SHA256, "type": "sha-256"}, {"checksum": "abc", "type": "md5"}],
        "access_methods": [
            {
                "type": "s3",
                "access_url": {"url": "s3://bucket/dir/reads.bam"},
                "region": "us-east-1",
            },
            {
                "type": "https",
                "access_id": "signed",
                "authorizations": {"supported_types": ["None", "BearerAuth"]},
            },
        ],
        "description": "aligned reads",
        "aliases": ["sample-1.bam"],
    }


def access_url() -> dict[str, Any]:
    return {"url": "https://s3d.example.org/bucket/reads.bam", "headers": ["Authorization: x"]}


def error() -> dict[str, Any]:
    return {"msg": "no DrsObject with id nope", "status_code": 404}


def service_info() -> dict[str, Any]:
    return {
        "id": "org.example.s3d",
        "name": "s3d",
        "type": {"group": "org.ga4gh", "artifact": "drs", "version": "1.4.0"},
        "organization": {"name": "Example", "url": "https://example.org"},
        "version": "0.1.0",
        "createdAt": "2026-11-22T04:00:00Z",
        "maxBulkRequestLength": 100,
    }


@pytest.mark.parametrize("name", ["DrsObject", "AccessURL", "Error", "ServiceInfo"])
def test_valid_documents_pass(name: str) -> None:
    document = {
        "DrsObject": drs_object,
        "AccessURL": access_url,
        "Error": error,
        "ServiceInfo": service_info,
    }[name]()
    validate(name, document)


def test_minimal_drs_object_passes() -> None:
    """Only id, self_uri, size, created_time and checksums are required by DRS 1.4."""
    validate(
        "DrsObject",
        {
            "id": "x",
            "self_uri": "drs://h/x",
            "size": 0,
            "created_time": "2026-11-22T04:00:00+00:00",
            "checksums": [{"checksum": SHA256, "type": "sha-256"}],
        },
    )


def test_extra_fields_are_allowed_as_upstream_allows_them() -> None:
    document = drs_object()
    document["x-s3d-cached"] = True
    document["access_methods"][0]["access_url"]["expires"] = 60
    validate("DrsObject", document)


def test_error_has_no_required_fields_upstream() -> None:
    validate("Error", {})


@pytest.mark.parametrize("field", ["id", "self_uri", "size", "created_time", "checksums"])
def test_drs_object_missing_required_field_fails(field: str) -> None:
    document = drs_object()
    del document[field]
    with pytest.raises(ValidationError, match=f"'{field}' is a required property"):
        validate("DrsObject", document)


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("size",), "4096", "is not of type 'integer'"),
        (("size",), 2**63, "is not a 'int64'"),
        (("created_time",), "2026-11-22", "is not a 'date-time'"),
        (("created_time",), "2026-11-22T04:00:00", "is not a 'date-time'"),
        (("created_time",), "2026-02-30T04:00:00Z", "is not a 'date-time'"),
        (("checksums",), [], "should be non-empty"),
        (("checksums", 0, "checksum"), 7, "is not of type 'string'"),
        (("access_methods",), [], "should be non-empty"),
        (("access_methods", 0, "type"), "s4", "is not one of"),
        (("access_methods", 0, "access_url", "url"), None, "is not of type 'string'"),
        (("aliases",), "sample-1.bam", "is not of type 'array'"),
    ],
)
def test_drs_object_wrong_type_fails(
    path: tuple[str | int, ...], value: object, complaint: str
) -> None:
    document = drs_object()
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(ValidationError, match=complaint):
        validate("DrsObject", document)


def test_nested_checksum_missing_type_fails() -> None:
    document = drs_object()
    del document["checksums"][1]["type"]
    with pytest.raises(ValidationError, match="'type' is a required property") as caught:
        validate("DrsObject", document)
    assert list(caught.value.absolute_path) == ["checksums", 1]


def test_leap_second_is_a_date_time() -> None:
    document = drs_object()
    document["created_time"] = "2016-12-31T23:59:60Z"
    validate("DrsObject", document)


def test_access_url_missing_url_fails() -> None:
    with pytest.raises(ValidationError, match="'url' is a required property"):
        validate("AccessURL", {"headers": []})


@pytest.mark.parametrize(("field", "value"), [("url", 1), ("headers", "Authorization: x")])
def test_access_url_wrong_type_fails(field: str, value: object) -> None:
    document = access_url()
    document[field] = value
    with pytest.raises(ValidationError, match="is not of type"):
        validate("AccessURL", document)


@pytest.mark.parametrize(
    "document",
    [
        {"msg": 5},
        {"status_code": "404"},
        {"msg": "m", "status_code": 4.04},
        ["not", "an", "object"],
    ],
)
def test_error_wrong_type_fails(document: object) -> None:
    with pytest.raises(ValidationError, match="is not of type"):
        validate("Error", document)


def test_service_info_needs_max_bulk_request_length() -> None:
    document = service_info()
    del document["maxBulkRequestLength"]
    with pytest.raises(ValidationError, match="'maxBulkRequestLength' is a required property"):
        validate("ServiceInfo", document)


def test_service_info_artifact_must_be_drs() -> None:
    document = service_info()
    document["type"]["artifact"] = "htsget"
    with pytest.raises(ValidationError, match=r"is not one of \['drs'\]"):
        validate("ServiceInfo", document)


def test_service_info_needs_the_ga4gh_service_fields() -> None:
    document = service_info()
    del document["organization"]["url"]
    with pytest.raises(ValidationError, match="'url' is a required property"):
        validate("ServiceInfo", document)


def test_bulk_responses() -> None:
    summary = {"requested": 3, "resolved": 1, "unresolved": 2}
    unresolved = [{"error_code": 404, "object_ids": ["a", "b"]}]
    validate(
        "BulkObjectResponse",
        {
            "summary": summary,
            "unresolved_drs_objects": unresolved,
            "resolved_drs_object": [drs_object()],
        },
    )
    validate(
        "BulkAccessURLResponse",
        {
            "summary": summary,
            "unresolved_drs_objects": unresolved,
            "resolved_drs_object_access_urls": [
                {"drs_object_id": "x", "drs_access_id": "signed", **access_url()}
            ],
        },
    )
    broken = copy.deepcopy(drs_object())
    del broken["self_uri"]
    with pytest.raises(ValidationError, match="'self_uri' is a required property"):
        validate("BulkObjectResponse", {"resolved_drs_object": [broken]})
    with pytest.raises(ValidationError, match="is not of type 'array'"):
        validate("BulkObjectResponse", {"unresolved_drs_objects": {"404": ["a"]}})
    with pytest.raises(ValidationError, match="'url' is a required property"):
        validate(
            "BulkAccessURLResponse", {"resolved_drs_object_access_urls": [{"drs_object_id": "x"}]}
        )


def test_schemas_lists_what_the_tests_need() -> None:
    needed = {"DrsObject", "AccessURL", "Error", "ServiceInfo", "BulkObjectResponse"}
    needed |= {"BulkAccessURLResponse", "AccessMethod", "Checksum", "BulkObjectId"}
    assert needed <= set(SCHEMAS)


def test_unknown_schema_name_is_refused() -> None:
    with pytest.raises(KeyError, match="no DRS schema named 'DrsObjects'"):
        validate("DrsObjects", {})


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.mark.parametrize("name", SCHEMAS)
def test_vendored_schema_is_well_formed(name: str) -> None:
    """Each file is a valid 2020-12 schema and every $ref names a vendored file."""
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    Draft202012Validator.check_schema(schema)
    for ref in _refs(schema):
        assert (SCHEMA_DIR / ref).is_file(), ref
