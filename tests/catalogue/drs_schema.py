"""Validate DRS response bodies against the GA4GH DRS 1.4 schemas vendored in drs_schemas/.

The catalogue's /ga4gh/drs/v1 endpoints must speak DRS 1.4 exactly, and hand-written assertions
only check the fields someone remembered. The schemas are the upstream component schemas turned
into JSON Schema (drs_schemas/README.md says from where, and what the conversion changed); this
module only wires them together offline, so `validate("DrsObject", body)` checks a whole response,
nested AccessMethods and Checksums included.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

__all__ = ["SCHEMAS", "SCHEMA_DIR", "ValidationError", "validate"]

SCHEMA_DIR = Path(__file__).parent / "drs_schemas"

# The schemas refer to each other by file name ("Checksum.json"); registering every file under
# its file URI lets those relative references resolve without a network or a fixed $id.
_BASE_URI = SCHEMA_DIR.as_uri() + "/"

SCHEMAS: tuple[str, ...] = tuple(sorted(path.stem for path in SCHEMA_DIR.glob("*.json")))
"""Every schema name `validate` accepts: the file names in drs_schemas/ without ".json"."""

# RFC 3339 date-time (what DRS means by `format: date-time`): a full date, a "T", a full time and
# an offset that is "Z" or ±hh:mm. datetime.fromisoformat alone would also take "2024-01-01" or a
# time without an offset, which a DRS client cannot rely on.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:(?P<second>\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)

_INT64 = range(-(2**63), 2**63)

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    """RFC 3339 shape, and a real calendar date and time (no 30 February, no 25:00)."""
    if not isinstance(value, str):
        return True  # Formats only constrain strings; `type` catches the rest.
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    # RFC 3339 allows a leap second (:60), which datetime cannot represent.
    text = value.upper()
    if match["second"] == "60":
        text = text[: match.start("second")] + "59" + text[match.end("second") :]
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


@_FORMATS.checks("int64")
def _is_int64(value: object) -> bool:
    """OpenAPI's int64: DrsObject.size must fit a signed 64-bit integer."""
    return not isinstance(value, int) or value in _INT64


@cache
def _registry() -> Registry:
    resources = [
        (_BASE_URI + path.name, Resource.from_contents(json.loads(path.read_text())))
        for path in sorted(SCHEMA_DIR.glob("*.json"))
    ]
    return Registry().with_resources(resources)


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": _BASE_URI + schema_name + ".json"},
        registry=_registry(),
        format_checker=_FORMATS,
    )


def validate(schema_name: str, document: object) -> None:
    """Raise jsonschema.ValidationError if `document` does not match the DRS 1.4 schema.

    The error raised is jsonschema's best match, so a failing test names the offending field
    (e.g. "'self_uri' is a required property") rather than a vague "not valid under allOf".
    Formats asserted: date-time (RFC 3339) and int64; "uri" stays an annotation, as upstream
    leaves mailto: and other schemes open.
    """
    if schema_name not in SCHEMAS:
        raise KeyError(f"no DRS schema named {schema_name!r}; known: {', '.join(SCHEMAS)}")
    error = best_match(_validator(schema_name).iter_errors(document))
    if error is not None:
        raise error
