"""Loading settings: TOML file, then ``S3D_*`` environment variables, then flags.

Each source yields typed values keyed by the option's dotted key, each remembered with where it
came from; later sources replace earlier ones. The merged values are checked once (ranges,
files that must exist, options that need each other) and only then built into ``Settings``, so
an error always names the source of the value that would have been used.

Environment variables that look like ours but are unknown are ignored, not refused: Kubernetes
injects ``S3D_PORT``, ``S3D_SERVICE_HOST``… into pods when a Service is named ``s3d``.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3d.config.errors import ConfigError
from s3d.config.options import Option, options, sections
from s3d.config.sizes import format_size
from s3d.config.values import BadValue, describe, from_native, from_text
from s3d.settings import Settings


@dataclass(frozen=True, slots=True)
class _Given:
    value: object
    origin: str  # "s3d.toml: server.port", "environment variable S3D_SERVER_PORT", "flag --port"


def load_settings(
    config_file: Path | None, env: Mapping[str, str], flags: Mapping[str, object]
) -> Settings:
    """Read, merge and validate the configuration; later sources win (file < env < flags).

    ``flags`` maps dotted keys (``server.port``) to a flag's text, a list of texts for a
    repeated flag, or an already typed value. Raises ``ConfigError`` on anything wrong.
    """
    given: dict[str, _Given] = {}
    if config_file is not None:
        given.update(_from_file(config_file))
    given.update(_from_env(env))
    given.update(_from_flags(flags))
    for option in options():
        _check(option, given)
    return _build(given)


@functools.cache
def _by_key() -> Mapping[str, Option]:
    return {option.key: option for option in options()}


def _parse(option: Option, origin: str, raw: object, text: bool) -> _Given:
    try:
        value = from_text(option.kind, str(raw)) if text else from_native(option.kind, raw)
    except BadValue as bad:
        got = f", got {describe(raw, option.secret)}" if bad.show_value else ""
        raise ConfigError(f"{origin}{bad.where}: {bad.problem}{got}") from None
    return _Given(value, origin)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        # The message carries "(at line L, column C)" and never the offending text.
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror}") from None


def _from_file(path: Path) -> dict[str, _Given]:
    by_key = _by_key()
    found: dict[str, _Given] = {}
    for top, value in _read_toml(path).items():
        if top in sections():
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {top}: expected a table ([{top}])")
            items = [(f"{top}.{name}", sub) for name, sub in value.items()]
        else:
            items = [(top, value)]
        for key, raw in items:
            option = by_key.get(key)
            if option is None:
                raise ConfigError(f"{path}: {_unknown(key, raw)}")
            found[key] = _parse(option, f"{path}: {key}", raw, text=False)
    return found


def _unknown(key: str, raw: object) -> str:
    """``key: unknown key (did you mean "server.port"?)``, the nearest known name if any."""
    if "." not in key and isinstance(raw, dict):
        match = difflib.get_close_matches(key, sections(), n=1)
        tip = f" (did you mean [{match[0]}]?)" if match else ""
        return f"[{key}]: unknown section{tip}"
    keys = list(_by_key())
    name = key.rpartition(".")[2]
    # The right name in the wrong place (port at the top level) is the likeliest mistake.
    same_name = [k for k in keys if k.rpartition(".")[2] == name]
    match = same_name or difflib.get_close_matches(key, keys, n=1)
    tip = f' (did you mean "{match[0]}"?)' if match else ""
    return f"{key}: unknown key{tip}"


def _from_env(env: Mapping[str, str]) -> dict[str, _Given]:
    return {
        option.key: _parse(option, f"environment variable {option.env}", env[option.env], True)
        for option in options()
        if option.env in env
    }


def _from_flags(flags: Mapping[str, object]) -> dict[str, _Given]:
    by_key = _by_key()
    found: dict[str, _Given] = {}
    for key, raw in flags.items():
        option = by_key.get(key)
        if option is None:
            raise ConfigError(f"unknown setting {key!r}")
        origin = f"flag {option.flag}"
        if isinstance(raw, list) and all(isinstance(r, str) for r in raw):
            # A repeatable flag (--access-key A:B --access-key C:D) arrives as a list.
            found[key] = _parse(option, origin, ",".join(raw), text=True)
        else:
            found[key] = _parse(option, origin, raw, text=isinstance(raw, str))
    return found


def _check(option: Option, given: Mapping[str, _Given]) -> None:
    item = given.get(option.key)
    if item is None or item.value is None:
        return  # defaults are valid by construction
    # Byte sizes are shown as they are written (64KiB), in the limits as in the value.
    show: Callable[[Any], str] = format_size if option.kind.base == "bytes" else str
    problem = _out_of_range(option.metadata, item.value, show)
    if problem:
        shown = show(item.value) if option.kind.base == "bytes" else describe(item.value, False)
        got = "" if option.secret else f", got {shown}"
        raise ConfigError(f"{item.origin}: {problem}{got}")
    problem = _missing_file(option, item.value)
    if problem:
        raise ConfigError(f"{item.origin}: {problem}")
    prefix = f"{option.section}." if option.section else ""
    for sibling in option.metadata.get("requires", ()):
        if _value(prefix + sibling, given) is None:
            raise ConfigError(f"{item.origin}: is set, but {prefix + sibling} is not")


def _out_of_range(meta: Mapping[str, Any], value: Any, show: Callable[[Any], str]) -> str | None:
    low, high, above = meta.get("min"), meta.get("max"), meta.get("above")
    if low is not None and high is not None and not low <= value <= high:
        return f"must be between {show(low)} and {show(high)}"
    if low is not None and value < low:
        return f"must be at least {show(low)}"
    if high is not None and value > high:
        return f"must be at most {show(high)}"
    if above is not None and value <= above:
        return f"must be greater than {show(above)}"
    return None


def _missing_file(option: Option, value: object) -> str | None:
    if not option.metadata.get("must_exist", False) or not isinstance(value, Path):
        return None
    if not value.exists():
        return f"no such file: {value}"
    return None if value.is_file() else f"not a file: {value}"


def _value(key: str, given: Mapping[str, _Given]) -> object:
    if key in given:
        return given[key].value
    return _by_key()[key].default


def _build(given: Mapping[str, _Given]) -> Settings:
    by_key = _by_key()
    top: dict[str, Any] = {}
    grouped: dict[str, dict[str, Any]] = {section: {} for section in sections()}
    for key, item in given.items():
        option = by_key[key]
        target = top if option.section is None else grouped[option.section]
        target[option.name] = item.value
    defaults = Settings()
    for section, values in grouped.items():
        top[section] = dataclasses.replace(getattr(defaults, section), **values)
    return dataclasses.replace(defaults, **top)
