"""The query parameters of the admin commands (``s3d/server/admin.py``), parsed and checked.

Pure. Authentication parameters (a presigned request's ``X-Amz-*``) are set aside; any other
parameter a command does not take is refused with ``InvalidArgument`` rather than ignored, so
that a misspelt ``?wiat=60`` does not silently mean "no wait".
"""

from __future__ import annotations

import math

from s3d.protocol.errors import InvalidArgument
from s3d.protocol.routing import Query, is_auth_parameter

MAX_WAIT = 3600.0
"""The longest ``POST /_s3d/flush?wait=`` may hold a request, in seconds."""
_MAX_ID = 2**63 - 1  # the largest SQLite rowid


def _parameters(query: Query, *allowed: str) -> dict[str, list[str]]:
    """The query's values by name, authentication parameters aside. Raises InvalidArgument
    for a name not ``allowed``, so that a misspelt parameter is not silently ignored."""
    found: dict[str, list[str]] = {}
    for name, value in query:
        if is_auth_parameter(name):
            continue
        if name not in allowed:
            raise InvalidArgument(
                f"Unknown parameter {name!r}: this command takes {', '.join(allowed)}.",
                ArgumentName=name,
            )
        found.setdefault(name, []).append(value)
    return found


def wait_seconds(query: Query) -> float | None:
    """``wait``: seconds from 0 to ``MAX_WAIT``, given once; None when absent. Raises
    InvalidArgument."""
    values = _parameters(query, "wait").get("wait")
    if values is None:
        return None
    try:
        seconds = float(values[0]) if len(values) == 1 else math.nan
    except ValueError:
        seconds = math.nan
    if not 0.0 <= seconds <= MAX_WAIT:  # nan compares false: refused too
        raise InvalidArgument(
            f"wait must be a number of seconds from 0 to {MAX_WAIT:g}, given once.",
            ArgumentName="wait",
            ArgumentValue=",".join(values),
        )
    return seconds


def dead_letter_ids(query: Query) -> list[int] | None:
    """``id=1,2,3`` (or ``id`` repeated): the dead letters named; None (all) without ``id``.
    Raises InvalidArgument for anything but positive integers."""
    values = _parameters(query, "id").get("id")
    if values is None:
        return None
    ids = [_id(text) for value in values for text in value.split(",")]
    if None in ids:
        raise InvalidArgument(
            "id must be a comma-separated list of dead-letter ids (positive integers).",
            ArgumentName="id",
            ArgumentValue=",".join(values),
        )
    return sorted({i for i in ids if i is not None})


def upload_ids(query: Query) -> list[str] | None:
    """``id=UPLOAD_ID`` (repeated): the remote multipart uploads named; None (all) without
    ``id``. Raises InvalidArgument for an empty id."""
    values = _parameters(query, "id").get("id")
    if values is not None and not all(values):
        raise InvalidArgument("id must name a remote upload id.", ArgumentName="id")
    return values


def _id(text: str) -> int | None:
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(_MAX_ID))):
        return None
    number = int(text)
    return number if 0 < number <= _MAX_ID else None


def parameters(query: Query, *allowed: str) -> dict[str, str]:
    """Each of ``allowed`` given at most once, by name. Raises InvalidArgument for another
    name or a name given twice."""
    found = _parameters(query, *allowed)
    for name, values in found.items():
        if len(values) > 1:
            raise InvalidArgument(f"{name} may be given once.", ArgumentName=name)
    return {name: values[0] for name, values in found.items()}
