"""Glob patterns of the selector language, as values: parsed once, compiled to a regex.

A pattern is a sequence of parts: literal text, ``*`` (any run of characters, ``/``
included: S3 keys are flat and a prefix is the only hierarchy S3 knows, so ``data/*`` means
every key under ``data/``), ``?`` (exactly one character) and ``{a,b,…}`` (one of the
alternatives, each a pattern of its own; not nested). ``**`` is read as ``*``, so patterns
written for rclone or gitignore mean "anything below" here too. Matching is case-sensitive.

The text form escapes with a backslash every character the selector language gives a
meaning (``render`` writes them so, ``parse_glob`` in ``parse.py`` reads them back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Star:
    """``*``: any run of characters, possibly empty."""


@dataclass(frozen=True, slots=True)
class One:
    """``?``: exactly one character."""


@dataclass(frozen=True, slots=True)
class Alternatives:
    """``{a,b}``: one of the options."""

    options: tuple[Glob, ...]


Part = str | Star | One | Alternatives


@dataclass(frozen=True, slots=True)
class Glob:
    """A pattern; ``parts`` are normalised (no empty literal, adjacent literals merged, no
    two stars in a row), so that equal patterns compare equal."""

    parts: tuple[Part, ...]

    @staticmethod
    def of(*parts: Part) -> Glob:
        merged: list[Part] = []
        for part in parts:
            if part == "":
                continue
            if merged and isinstance(part, str) and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + part
            elif merged and isinstance(part, Star) and isinstance(merged[-1], Star):
                continue
            else:
                merged.append(part)
        return Glob(tuple(merged))

    @property
    def literal(self) -> str | None:
        """The text matched, when the pattern has no wildcard."""
        if not self.parts:
            return ""
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return self.parts[0]
        return None

    def regex(self) -> str:
        return "".join(_part_regex(p) for p in self.parts)

    def compile(self) -> re.Pattern[str]:
        return re.compile(self.regex(), re.DOTALL)

    def render(self, special: str) -> str:
        """The text form; ``special``: the characters to escape besides the glob's own."""
        return "".join(_render_part(p, special) for p in self.parts)


EVERYTHING = Glob((Star(),))
GLOB_CHARS = "*?{}\\"
"""Characters with a meaning in every pattern (``,`` only inside braces)."""


def _part_regex(part: Part) -> str:
    if isinstance(part, str):
        return re.escape(part)
    if isinstance(part, Star):
        return ".*"
    if isinstance(part, One):
        return "."
    return "(?:" + "|".join(option.regex() for option in part.options) + ")"


def _render_part(part: Part, special: str) -> str:
    if isinstance(part, str):
        return escape(part, special)
    if isinstance(part, Star):
        return "*"
    if isinstance(part, One):
        return "?"
    return "{" + ",".join(o.render(special + ",") for o in part.options) + "}"


def escape(text: str, special: str) -> str:
    """``text`` with a backslash before each glob or ``special`` character."""
    chars = GLOB_CHARS + special
    return "".join("\\" + c if c in chars else c for c in text)
