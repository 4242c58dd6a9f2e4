"""Reading a rule file: comments, sections, one rule a line.

    # a comment (a line whose first non-blank character is '#')
    [write-queue]
    refuse   scratch/**          # a trailing comment follows a blank
    -        */logs/*[hdr:content-length>1GiB]
    +        *

Every error names the file, line and column and what was expected (``RuleError``).
"""

from __future__ import annotations

from s3d.rules.features import FEATURES, VOCABULARIES, Feature
from s3d.rules.parse import parse_selector
from s3d.rules.syntax import SPACE, Location, Rule, RuleError

Sections = dict[Feature, list[Rule]]


def parse_rules(
    text: str, source: str = "<rules>", errors: list[RuleError] | None = None
) -> Sections:
    """Each feature's rules in ``text``, in order. Raises RuleError at the first bad line,
    or, given ``errors``, appends each bad line's error there and reads on."""
    sections: Sections = {}
    current: Feature | None = None
    skipping = False  # after a bad section header, until the next one
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        body = line.lstrip(SPACE)
        column = len(line) - len(body) + 1
        if not body or body.startswith("#"):
            continue
        try:
            if body.startswith("["):
                skipping = True
                current = _section(body.rstrip(SPACE), source, number, column)
                skipping = False
                sections.setdefault(current, [])
            elif skipping:
                continue
            elif current is None:
                names = ", ".join(f"[{f}]" for f in FEATURES)
                message = f"a rule before any section: start with {names}"
                raise RuleError(message, number, column, source)
            else:
                sections[current].append(_rule(current, body, source, number, column))
        except RuleError as exc:
            if errors is None:
                raise
            errors.append(exc)
    return sections


def _section(text: str, source: str, line: int, column: int) -> Feature:
    name = text[1:-1] if text.endswith("]") else None
    for feature in FEATURES:
        if name == feature:
            return feature
    names = ", ".join(f"[{f}]" for f in FEATURES)
    raise RuleError(f"expected a section {names}, found {text!r}", line, column, source)


def _rule(feature: Feature, text: str, source: str, line: int, column: int) -> Rule:
    word, _, rest = _split(text)
    action = VOCABULARIES[feature].action(word)
    if isinstance(action, str):
        raise RuleError(f"[{feature}]: {action}", line, column, source)
    selector_text = rest.lstrip(SPACE)
    at = column + len(text) - len(selector_text)
    if not selector_text or selector_text.startswith("#"):
        raise RuleError("expected a selector after the action", line, at, source)
    selector_text = _without_comment(selector_text)
    selector = parse_selector(selector_text, source, line, at)
    return Rule(action, selector, word, Location(source, line, column))


def _split(text: str) -> tuple[str, str, str]:
    for index, char in enumerate(text):
        if char in SPACE:
            return text[:index], char, text[index:]
    return text, "", ""


def _without_comment(text: str) -> str:
    """The selector without a trailing comment: a '#' after an unquoted, unescaped blank."""
    quote, index = "", 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char in "'\"" and (not quote or char == quote):
            quote = "" if quote else char
        elif not quote and char in SPACE:
            rest = text[index:].lstrip(SPACE)
            if not rest or rest.startswith("#"):
                return text[:index]
            return text  # the selector parser says what is wrong
        index += 1
    return text
