"""The features rules steer, and the words each one's rule lines may start with.

A rule file has one section per feature (``[write-queue]``, ``[read-cache]``, ``[sync]``);
``+`` and ``-`` are each feature's include and exclude, as in rclone's filter files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from s3d.rules.numbers import parse_duration
from s3d.rules.syntax import Action

Feature = Literal["write-queue", "read-cache", "sync"]
FEATURES: tuple[Feature, ...] = ("write-queue", "read-cache", "sync")

WRITE_BACK = Action("write-back")
WRITE_THROUGH = Action("write-through")
REFUSE = Action("refuse")
CACHE = Action("cache")
BYPASS = Action("bypass")
PIN = Action("pin")
INCLUDE = Action("include")
EXCLUDE = Action("exclude")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    words: dict[str, Action]
    timed: frozenset[str] = frozenset()
    """Words that take ``=<duration>`` (an own freshness)."""

    def action(self, word: str) -> Action | str:
        """The action ``word`` names, or what was expected instead."""
        name, _, duration = word.partition("=")
        found = self.words.get(name)
        if found is not None and not duration and "=" not in word:
            return found
        if found is not None and name in self.timed:
            seconds = parse_duration(duration)
            if seconds is not None:
                return Action(found.verb, seconds)
            return f"expected a duration after '{name}=' (30s, 10m, 2h, 1d)"
        expected = ", ".join(f"'{w}'" for w in self.words)
        timed = "".join(f", '{w}=<duration>'" for w in sorted(self.timed))
        return f"expected {expected}{timed}, found {word!r}"


VOCABULARIES: dict[Feature, Vocabulary] = {
    "write-queue": Vocabulary(
        {
            "+": WRITE_BACK,
            "-": WRITE_THROUGH,
            "write-back": WRITE_BACK,
            "write-through": WRITE_THROUGH,
            "refuse": REFUSE,
        }
    ),
    "read-cache": Vocabulary(
        {"+": CACHE, "-": BYPASS, "cache": CACHE, "bypass": BYPASS, "pin": PIN},
        frozenset({"cache", "pin"}),
    ),
    "sync": Vocabulary({"+": INCLUDE, "-": EXCLUDE, "include": INCLUDE, "exclude": EXCLUDE}),
}
