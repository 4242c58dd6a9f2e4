"""Turning raw configuration values into typed ones, for each ``Kind``.

Two entry points: ``from_text`` for environment variables and flags (everything is a string:
lists are comma-separated, records ``ID:SECRET``, byte sizes ``64KiB``) and ``from_native`` for
TOML values and values passed from Python (a byte size is an integer or such a string). Both
raise ``BadValue`` naming what was expected; the caller adds the key, the source and, unless the
option is secret, the value received.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from s3d.config import sizes
from s3d.config.options import Kind

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})

_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "bytes": f"a byte size ({sizes.FORMS}; {sizes.UNITS_NOTE})",
    "number": "a number",
    "boolean": "true or false",
    "path": "a path",
    "strings": "a list of strings",
    "records": "a list of tables",
}


class BadValue(Exception):
    """A value that does not fit its option; ``where`` locates it inside a list of records."""

    def __init__(self, problem: str, *, where: str = "", show_value: bool = True) -> None:
        super().__init__(problem)
        self.problem = problem
        self.where = where
        self.show_value = show_value


def expected(kind: Kind) -> str:
    """The words for what an option of ``kind`` accepts: ``an integer``, ``one of a, b``."""
    if kind.base == "choice":
        return "one of " + ", ".join(kind.choices)
    return _EXPECTED[kind.base]


def describe(value: object, secret: bool) -> str:
    """A value as an error message shows it; for a secret option only its type."""
    if secret:
        return f"a value of type {type(value).__name__}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def from_text(kind: Kind, text: str) -> object:
    """The typed value of an environment variable or flag."""
    stripped = text.strip()
    if kind.optional and not stripped:
        return None
    if kind.base == "strings":
        return tuple(_split(text))
    if kind.base == "records":
        assert kind.record is not None
        if stripped.startswith("["):  # JSON: a list of tables, as in TOML
            try:
                native = json.loads(stripped)
            except ValueError:
                raise BadValue("expected a JSON list of tables", show_value=False) from None
            return from_native(kind, native)
        return _unique(kind.record, tuple(_record_from_text(kind.record, i) for i in _split(text)))
    if kind.base == "string":
        return text
    if kind.base == "boolean":
        if stripped.lower() in _TRUE | _FALSE:
            return stripped.lower() in _TRUE
        raise BadValue("expected true or false (or yes/no, 1/0)")
    if kind.base == "bytes":
        return _size(kind, stripped)
    return _scalar(kind, _number(kind, stripped))


def from_native(kind: Kind, value: object) -> object:
    """The typed value of a TOML value (or one given from Python)."""
    if value is None and kind.optional:
        return None
    if kind.base == "strings":
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise BadValue("expected a list of strings")
    if kind.base == "records":
        assert kind.record is not None
        if not isinstance(value, list | tuple):
            raise BadValue("expected a list of tables")
        items = (_record_from_native(kind.record, item, i) for i, item in enumerate(value))
        return _unique(kind.record, tuple(items))
    if kind.base == "boolean" and isinstance(value, bool):
        return value
    if kind.base in ("integer", "bytes", "number") and isinstance(value, bool):
        raise BadValue(f"expected {expected(kind)}")
    if kind.base == "bytes" and isinstance(value, str):
        return _size(kind, value)
    return _scalar(kind, value)


def _size(kind: Kind, text: str) -> int:
    try:
        return sizes.parse_size(text)
    except ValueError:
        raise BadValue(f"expected {expected(kind)}") from None


def _number(kind: Kind, text: str) -> object:
    """Text for a numeric option as a number, so that ``_scalar`` checks one type."""
    try:
        if kind.base == "integer":
            return int(text)
        if kind.base == "number":
            return float(text)
    except ValueError:
        raise BadValue(f"expected {expected(kind)}") from None
    return text


def _scalar(kind: Kind, value: object) -> object:
    base = kind.base
    if base == "string" and isinstance(value, str):
        return value
    if base in ("integer", "bytes") and isinstance(value, int):
        return value
    if base == "number" and isinstance(value, int | float):
        if not math.isfinite(value):
            raise BadValue("expected a finite number")
        return float(value)
    if base == "path" and isinstance(value, str | Path) and str(value):
        return Path(value).expanduser()
    if base == "choice" and value in kind.choices:
        return value
    raise BadValue(f"expected {expected(kind)}")


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _record_from_text(record: type[Any], item: str) -> object:
    names = [f.name for f in dataclasses.fields(record)]
    parts = item.split(":", len(names) - 1)
    if len(parts) != len(names) or not all(parts):
        # The item may hold a secret: describe the shape, never echo the text.
        shape = ":".join(names)
        raise BadValue(f"expected comma-separated {shape} items", show_value=False)
    return record(*parts)


def _record_from_native(record: type[Any], item: object, index: int) -> object:
    if dataclasses.is_dataclass(item) and isinstance(item, record):
        return item
    if not isinstance(item, Mapping):
        raise BadValue("expected a table", where=f"[{index}]", show_value=False)
    names = [f.name for f in dataclasses.fields(record)]
    for key in item:
        if key not in names:
            hint = difflib.get_close_matches(str(key), names, n=1)
            tip = f' (did you mean "{hint[0]}"?)' if hint else ""
            raise BadValue(f"unknown key{tip}", where=f"[{index}].{key}", show_value=False)
    for f in dataclasses.fields(record):
        optional = f.default is not dataclasses.MISSING
        value = item.get(f.name)
        if optional and value is None:
            continue
        if not isinstance(value, str) or not (value or optional):
            where = f"[{index}].{f.name}"
            raise BadValue("expected a non-empty string", where=where, show_value=False)
    return record(**item)


def _unique(record: type[Any], records: tuple[Any, ...]) -> tuple[Any, ...]:
    """Records whose first field (their name, e.g. the access key id) is never repeated."""
    ident = dataclasses.fields(record)[0].name
    seen: set[object] = set()
    for index, rec in enumerate(records):
        if getattr(rec, ident) in seen:
            problem = f"item {index + 1} repeats the {ident} of an earlier item"
            raise BadValue(problem, show_value=False)
        seen.add(getattr(rec, ident))
    return records
