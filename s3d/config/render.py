"""The effective configuration as TOML, with secrets masked (``s3d check-config``).

The output loads back with ``load_settings`` into the same settings, masked secrets aside:
``None`` values are written as comments (TOML has no null), lists of records as arrays of
tables after their section's plain keys, where TOML requires them, and byte sizes with a unit
where one writes them exactly (``max_size = "10GiB"``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from s3d.config.options import Option, options, sections
from s3d.config.sizes import format_size
from s3d.settings import Settings

MASK = "****"


def render_settings(settings: Settings) -> str:
    """``settings`` as a TOML document; secrets become ``"****"`` (key ids keep 4 characters)."""
    lines = ["# s3d: effective configuration (secrets masked)"]
    lines += [_line(o, getattr(settings, o.name)) for o in options() if o.section is None]
    for section in sections():
        group = getattr(settings, section)
        mine = [o for o in options() if o.section == section]
        lines += ["", f"[{section}]"]
        lines += [_line(o, getattr(group, o.name)) for o in mine if o.kind.base != "records"]
        for option in (o for o in mine if o.kind.base == "records"):
            lines += _tables(option, getattr(group, option.name))
    return "\n".join(lines) + "\n"


def mask(metadata: Mapping[str, Any], value: object) -> object:
    """``value`` as it may be shown: whole when not secret, else masked."""
    if not metadata.get("secret", False) or value is None:
        return value
    text = str(value)
    # A suffix is shown only when it leaves most of the id hidden.
    if metadata.get("show_suffix", False) and len(text) >= 8:
        return MASK + text[-4:]
    return MASK


def _line(option: Option, value: object) -> str:
    if value is None:
        return f"# {option.name} is unset"
    return f"{option.name} = {toml_setting(option, mask(option.metadata, value))}"


def _tables(option: Option, records: tuple[Any, ...]) -> list[str]:
    if not records:
        return [f"# {option.name}: none"]
    lines: list[str] = []
    for record in records:
        lines += ["", f"[[{option.key}]]"]
        for f in dataclasses.fields(record):
            lines.append(f"{f.name} = {toml_value(mask(f.metadata, getattr(record, f.name)))}")
    return lines


def toml_setting(option: Option, value: object) -> str:
    """The TOML literal for a value of ``option``: a byte size as ``"10GiB"`` where a unit
    writes it exactly, else as the integer."""
    if option.kind.base == "bytes" and isinstance(value, int) and not isinstance(value, bool):
        text = format_size(value)
        return toml_value(value) if text == str(value) else toml_value(text)
    return toml_value(value)


def toml_value(value: object) -> str:
    """A TOML literal for a setting's value (string, path, bool, number or list of strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        # JSON string escapes are TOML basic-string escapes; DEL is the one TOML adds.
        return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")
