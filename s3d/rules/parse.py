"""Reading a selector: a hand-written recursive descent over one line, with the column of
every error. Theory of operation: ``_Reader`` walks the text; a pattern (bucket, key or a
predicate's value) runs until a character that ends it *outside quotes*; quotes only make
those characters literal (``'video/*'`` still globs), a backslash makes any one character
literal. The grammar is in docs/rules.md.
"""

from __future__ import annotations

from typing import cast

from s3d.rules.globs import Alternatives, Glob, One, Part, Star
from s3d.rules.numbers import parse_size
from s3d.rules.syntax import (
    NUMERIC,
    QUOTES,
    SPACE,
    Namespace,
    Operator,
    Predicate,
    RuleError,
    Selector,
)

_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
_NAMESPACES = ("tag", "hdr", "md")


class _Reader:
    def __init__(self, text: str, source: str, line: int, column: int) -> None:
        self.text, self.pos = text, 0
        self._source, self._line, self._column = source, line, column

    def peek(self, width: int = 1) -> str:
        return self.text[self.pos : self.pos + width]

    def error(self, message: str, at: int | None = None) -> RuleError:
        column = self._column + (self.pos if at is None else at)
        return RuleError(message, self._line, column, self._source)

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end of the line"
            raise self.error(f"expected {what}, found {found}")
        self.pos += 1

    def pattern(self, ends: str, braces: bool = True) -> Glob:
        """A glob up to an unquoted character of ``ends`` (or the end of the text)."""
        parts: list[Part] = []
        quote, opened = "", 0
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                if self.pos + 1 == len(self.text):
                    raise self.error("a backslash escapes nothing at the end of the line")
                parts.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char in QUOTES and (not quote or char == quote):
                quote, opened = ("" if quote else char), self.pos
            elif not quote and char in ends:
                break
            elif char == "*":
                parts.append(Star())
            elif char == "?":
                parts.append(One())
            elif char == "{" and braces:
                parts.append(self._alternatives(ends))
                continue
            elif char in "{}":
                raise self.error(f"'{char}' needs a backslash here (braces do not nest)")
            else:
                parts.append(char)
            self.pos += 1
        if quote:
            raise self.error(f"this {quote} is never closed", opened)
        return Glob.of(*parts)

    def _alternatives(self, ends: str) -> Alternatives:
        start = self.pos
        self.pos += 1
        options = [self.pattern(ends + ",}", braces=False)]
        while self.peek() == ",":
            self.pos += 1
            options.append(self.pattern(ends + ",}", braces=False))
        if self.peek() != "}":
            raise self.error("this '{' is never closed by '}'", start)
        self.pos += 1
        return Alternatives(tuple(options))

    def literal(self, ends: str, what: str) -> str:
        start = self.pos
        glob = self.pattern(ends, braces=False)
        text = glob.literal
        if text is None:
            raise self.error(f"a {what} is plain text: escape '*' and '?' with a backslash", start)
        return text


def parse_selector(text: str, source: str = "<rule>", line: int = 1, column: int = 1) -> Selector:
    """The selector ``text`` says; RuleError (with the column) when it says nothing valid."""
    reader = _Reader(text, source, line, column)
    if not text or text[0] in "/[" + SPACE:
        raise reader.error("expected a bucket pattern (a name, or '*' for any bucket)")
    bucket = reader.pattern("/[]" + SPACE)
    bucket_predicates = _predicates(reader, "bucket")
    key: Glob | None = None
    key_predicates: tuple[Predicate, ...] = ()
    if reader.peek() == "/":
        reader.pos += 1
        if reader.peek() in ("", "[") or reader.peek() in SPACE:
            raise reader.error("expected a key pattern after '/' ('*' for every key)")
        key = reader.pattern("[]" + SPACE)
        key_predicates = _predicates(reader, "object")
    if reader.pos < len(text):
        raise reader.error(f"expected '/', '[' or the end of the selector, found {reader.peek()!r}")
    return Selector(bucket, bucket_predicates, key, key_predicates)


def _predicates(reader: _Reader, subject: str) -> tuple[Predicate, ...]:
    found = []
    while reader.peek() == "[":
        found.append(_predicate(reader, subject))
    return tuple(found)


def _predicate(reader: _Reader, subject: str) -> Predicate:
    start = reader.pos
    reader.pos += 1
    negated = reader.peek() == "!"
    reader.pos += negated
    namespace = next((n for n in _NAMESPACES if reader.peek(len(n) + 1) == n + ":"), None)
    if namespace is None:
        raise reader.error("expected 'tag:', 'hdr:' or 'md:' after '['")
    if subject == "bucket" and namespace != "tag":
        raise reader.error(
            f"a bucket has only tags: put '{namespace}:' after the '/' (it tests objects)", start
        )
    reader.pos += len(namespace) + 1
    name = reader.literal("]=!<>" + SPACE, "name")
    if not name:
        raise reader.error(f"expected a {namespace} name after '{namespace}:'")
    if namespace != "tag":
        name = name.lower()
    operator = next((o for o in _OPERATORS if reader.peek(len(o)) == o), None)
    value: Glob | int | None = None
    if operator is not None:
        reader.pos += len(operator)
        value = _number(reader) if operator in NUMERIC else reader.pattern("[]" + SPACE)
    reader.expect("]", "']'" if operator else "'=', '!=', '<', '<=', '>', '>=' or ']'")
    found = cast(Operator | None, operator)
    return Predicate(cast(Namespace, namespace), name, found, value, negated)


def _number(reader: _Reader) -> int:
    start = reader.pos
    text = reader.literal("]" + SPACE, "number")
    size = parse_size(text)
    if size is None:
        raise reader.error(
            f"expected a number of bytes (100, 64KiB, 1.5GB…), found {text!r}", start
        )
    return size
