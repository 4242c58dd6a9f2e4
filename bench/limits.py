"""Targets that are limits on one value of a run (a latency, a memory peak, a ratio), and
their verdicts: what the write-back and the DRS benchmarks share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Target(Generic[R]):
    name: str
    limit: float
    unit: str  # "ms", "s", "x" or "MiB"
    strict: bool
    """Whether the value must stay strictly below ``limit`` (else at most ``limit``)."""
    value: Callable[[R], float | None]
    digits: int = 1
    """Decimals shown (a ratio "x" always shows 2)."""

    @property
    def needed(self) -> str:
        return f"{'<' if self.strict else '<='} {self.limit:g}{_space(self.unit)}{self.unit}"


def _space(unit: str) -> str:
    return "" if unit == "x" else " "


@dataclass(frozen=True, slots=True)
class Verdict(Generic[R]):
    target: Target[R]
    value: float | None
    status: str  # "PASS", "FAIL" or "n/a"

    @property
    def shown(self) -> str:
        if self.value is None:
            return "-"
        unit = self.target.unit
        digits = 2 if unit == "x" else self.target.digits
        return f"{self.value:,.{digits}f}{_space(unit)}{unit}"

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.target.name,
            "value": None if self.value is None else round(self.value, 3),
            "unit": self.target.unit,
            "needed": self.target.needed,
            "status": self.status,
        }


def judge(targets: Sequence[Target[R]], run: R) -> list[Verdict[R]]:
    """Each target within its limit passes; one whose value was not measured is n/a."""
    verdicts = []
    for target in targets:
        value = target.value(run)
        if value is None:
            verdicts.append(Verdict(target, None, "n/a"))
            continue
        passed = value < target.limit if target.strict else value <= target.limit
        verdicts.append(Verdict(target, value, "PASS" if passed else "FAIL"))
    return verdicts
