"""The configuration surface, read off the ``Settings`` dataclasses once.

Every field of ``Settings`` becomes one ``Option``: a field whose type is itself a dataclass
(``server``, ``remote``, ``log``) is a TOML section and each of its fields an option; any other
field (``data_dir``) is a top-level option. Names, environment variables, flags, defaults and
checks all come from the field and its metadata, so a new field needs no code here. A field of
a type this module does not know raises ``TypeError`` on first use, which the tests catch.
An ``int`` field with ``"unit": "bytes"`` in its metadata is a byte size (``Kind("bytes")``):
it also takes ``"64KiB"``, ``"1.5GiB"``… (``s3d.config.sizes``).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from s3d.config.sizes import format_size
from s3d.settings import Settings

Base = Literal[
    "string", "integer", "bytes", "number", "boolean", "path", "choice", "strings", "records"
]

_SCALARS: dict[object, Base] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
}

_METAVARS: dict[Base, str] = {
    "string": "TEXT",
    "integer": "INT",
    "bytes": "SIZE",
    "number": "NUMBER",
    "boolean": "BOOL",
    "path": "PATH",
    "strings": "A,B,...",
}


@dataclass(frozen=True, slots=True)
class Kind:
    """What values an option takes: ``base`` plus its choices or record type."""

    base: Base
    optional: bool = False
    choices: tuple[str, ...] = ()
    # For "records": the dataclass of one item (every field a string), e.g. AccessKey.
    record: type[Any] | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: where it lives in each source and what it accepts."""

    section: str | None
    name: str
    kind: Kind
    default: object
    help: str
    env: str
    flag: str
    metadata: typing.Mapping[str, Any]

    @property
    def key(self) -> str:
        """The dotted TOML key, ``server.port`` or ``data_dir``."""
        return self.name if self.section is None else f"{self.section}.{self.name}"

    @property
    def default_text(self) -> str:
        """The default as ``--help`` and the docs show it."""
        value = self.default
        if value is None:
            return "unset"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return ",".join(map(str, value)) if value else "none"
        if self.kind.base == "bytes" and isinstance(value, int):
            return format_size(value)
        return str(value)

    @property
    def metavar(self) -> str:
        """The name of a flag's value in ``--help``: ``INT``, ``{off,read}``, ``ID:SECRET``."""
        if "metavar" in self.metadata:
            return str(self.metadata["metavar"])
        kind = self.kind
        if kind.base == "choice":
            return "{" + ",".join(kind.choices) + "}"
        if kind.record is not None:
            return ":".join(f.name.upper() for f in dataclasses.fields(kind.record))
        return _METAVARS[kind.base]

    @property
    def secret(self) -> bool:
        """Whether values must be masked: the field, or any field of its records, is secret."""
        if self.metadata.get("secret", False):
            return True
        record = self.kind.record
        return record is not None and any(
            f.metadata.get("secret", False) for f in dataclasses.fields(record)
        )


@functools.cache
def options() -> tuple[Option, ...]:
    """Every option of ``Settings``, top-level ones first, in declaration order."""
    found: list[Option] = []
    hints = typing.get_type_hints(Settings)
    for f in dataclasses.fields(Settings):
        hint = hints[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            found.extend(_fields_of(hint, section=f.name))
        else:
            found.append(_option(None, f, hint))
    found.sort(key=lambda option: option.section is not None)
    return tuple(found)


def sections() -> tuple[str, ...]:
    """The TOML section names, in declaration order."""
    return tuple(dict.fromkeys(o.section for o in options() if o.section is not None))


def _fields_of(cls: type[Any], section: str) -> list[Option]:
    hints = typing.get_type_hints(cls)
    return [_option(section, f, hints[f.name]) for f in dataclasses.fields(cls)]


def _option(section: str | None, f: dataclasses.Field[Any], hint: object) -> Option:
    meta = f.metadata
    dashed = f.name.replace("_", "-")
    prefix = "" if section is None else f"{section}_"
    return Option(
        section=section,
        name=f.name,
        kind=_with_unit(kind_of(hint), meta, f.name),
        default=_default(f),
        help=str(meta.get("help", "")),
        env=str(meta.get("env", f"S3D_{prefix}{f.name}".upper())),
        flag=str(meta.get("flag", "--" + prefix.replace("_", "-") + dashed)),
        metadata=meta,
    )


def _with_unit(kind: Kind, meta: typing.Mapping[str, Any], name: str) -> Kind:
    unit = meta.get("unit")
    if unit is None:
        return kind
    if unit == "bytes" and kind.base == "integer":
        return dataclasses.replace(kind, base="bytes")
    raise TypeError(f"s3d.config: setting {name!r}: unit {unit!r} needs an int field of bytes")


def _default(f: dataclasses.Field[Any]) -> object:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    # Every setting must have a default: s3d starts with no configuration at all.
    raise TypeError(f"s3d.config: setting {f.name!r} has no default")


def kind_of(hint: object) -> Kind:
    """The ``Kind`` of a resolved type annotation; ``TypeError`` for one not supported."""
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return dataclasses.replace(kind_of(rest[0]), optional=True)
    if hint in _SCALARS:
        return Kind(_SCALARS[hint])
    if origin is Literal and all(isinstance(a, str) for a in args):
        return Kind("choice", choices=tuple(args))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if item is str:
            return Kind("strings")
        if isinstance(item, type) and dataclasses.is_dataclass(item) and _all_strings(item):
            return Kind("records", record=item)
    raise TypeError(f"s3d.config: no configuration support for fields of type {hint!r}")


def _all_strings(cls: type[Any]) -> bool:
    return all(hint is str for hint in typing.get_type_hints(cls).values())
