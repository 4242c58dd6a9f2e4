"""The selector language's values: what a rule says, parsed once (``parse.py``) and rendered
back (``render``), so that ``parse(render(rule)) == rule``. The grammar is in docs/rules.md.

A selector is a bucket pattern and its predicates, then optionally ``/``, a key pattern and
its predicates: ``bucket[tag:k=v]/prefix*[hdr:content-type='video/*']``. Predicates before
the ``/`` test the bucket (its tags), after it the object (its tags, headers, user metadata);
several in a row all have to hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from s3d.rules.globs import EVERYTHING, Glob, escape
from s3d.rules.numbers import render_duration

Namespace = Literal["tag", "hdr", "md"]
Operator = Literal["=", "!=", "<", "<=", ">", ">="]
NUMERIC: frozenset[str] = frozenset({"<", "<=", ">", ">="})

SPACE = " \t"
QUOTES = "'\""
BUCKET_SPECIAL = "/[]" + SPACE + QUOTES
KEY_SPECIAL = "[]" + SPACE + QUOTES
NAME_SPECIAL = "[]=!<>" + SPACE + QUOTES
VALUE_SPECIAL = "[]" + SPACE + QUOTES


class RuleError(ValueError):
    """A rule that cannot be read: where (``source:line:column``, 1-based) and what was
    expected."""

    def __init__(self, message: str, line: int = 1, column: int = 1, source: str = "<rule>"):
        super().__init__(message)
        self.message, self.line, self.column, self.source = message, line, column, source

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class Location:
    source: str = "<rule>"
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass(frozen=True, slots=True)
class Predicate:
    """``[tag:name]`` (present), ``[ns:name OP value]``, ``[!…]`` (the opposite). Header and
    metadata names are lower case (HTTP's are case-insensitive); tag names are exact."""

    namespace: Namespace
    name: str
    operator: Operator | None = None
    value: Glob | int | None = None
    """A pattern for ``=`` and ``!=``, bytes (a number) for the comparisons."""
    negated: bool = False

    def render(self) -> str:
        text = f"{self.namespace}:{escape(self.name, NAME_SPECIAL)}"
        if self.operator is not None:
            value = self.value
            shown = value.render(VALUE_SPECIAL) if isinstance(value, Glob) else str(value)
            text += self.operator + shown
        return f"[{'!' if self.negated else ''}{text}]"


@dataclass(frozen=True, slots=True)
class Selector:
    bucket: Glob = EVERYTHING
    bucket_predicates: tuple[Predicate, ...] = ()
    key: Glob | None = None
    """None: every key of the bucket."""
    key_predicates: tuple[Predicate, ...] = ()

    def render(self) -> str:
        text = self.bucket.render(BUCKET_SPECIAL)
        text += "".join(p.render() for p in self.bucket_predicates)
        if self.key is not None:
            text += "/" + self.key.render(KEY_SPECIAL)
            text += "".join(p.render() for p in self.key_predicates)
        return text


@dataclass(frozen=True, slots=True)
class Action:
    """What a feature does with a matching object: ``verb`` is one of the feature's
    (``write-back``…); ``freshness`` in seconds, for the read cache's ``cache=`` and ``pin=``."""

    verb: str
    freshness: float | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    selector: Selector
    word: str = field(default="", compare=False)
    """The action as written (``+``, ``through``…)."""
    where: Location = field(default=Location(), compare=False)

    def render(self) -> str:
        word = self.word or self.action.verb
        if self.action.freshness is not None:
            word = f"{word.split('=')[0]}={render_duration(self.action.freshness)}"
        return f"{word} {self.selector.render()}"
