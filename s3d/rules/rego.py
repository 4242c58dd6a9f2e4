"""Rego policies, evaluated in-process by regorus (the gordon-to-regorus build of Microsoft's
Rust interpreter): compiled once at load, then one evaluation per request on the caller's
thread (no I/O; about 10 µs for a small policy, see docs/rules.md for the comparison with
regopy that chose it).

A policy package answers ``allow`` (a boolean; undefined means deny) and may answer ``reason``
(a string, logged when a request is denied, never sent). The package is ``s3d.authz`` unless
configured otherwise. A compilation error is a ``RuleError`` with the file, line and column
regorus reports; an evaluation error is a ``PolicyError`` the caller turns into its
configured fail-open or fail-closed answer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import regorus

from s3d.rules.syntax import RuleError

_WHERE = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<column>\d+)")
_ERROR = re.compile(r"^error:\s*(?P<message>.+)$", re.MULTILINE)


class PolicyError(RuntimeError):
    """A policy could not be evaluated for a request (division by zero, conflicting
    values…): the message says where, never what the input held."""


@dataclass(frozen=True, slots=True)
class Verdict:
    allow: bool
    reason: str = ""


_ENGINES: dict[int, regorus.Engine] = {}
"""Every engine in use, by its ``Policies``' number. A regorus engine may only be freed on the
thread that made it, and a ``Policies`` may be collected anywhere (a traceback kept by a
denial holds it): the engine stays here until ``close`` frees it on the right thread."""
_numbers = itertools.count()


class Policies:
    """Compiled Rego modules; ``decide`` evaluates one input. Used on the thread that made it
    (the daemon's event loop), and closed there."""

    def __init__(self, modules: Iterable[tuple[str, str]], package: str = "s3d.authz") -> None:
        """``modules``: (file name, text). Raises RuleError for a module that does not
        compile, or when none defines ``allow`` in ``package``."""
        self._number = next(_numbers)
        _ENGINES[self._number] = regorus.Engine()
        self.sources: tuple[str, ...] = ()
        self._allow = f"data.{package}.allow"
        self._reason = f"data.{package}.reason"
        try:
            for source, text in modules:
                try:
                    _ENGINES[self._number].add_policy(source, text)
                except RuntimeError as exc:
                    raise _rule_error(str(exc), source) from None
                self.sources += (source,)
            packages = set(_ENGINES[self._number].get_packages())
            if self.sources and f"data.{package}" not in packages:
                raise RuleError(f"no policy defines package {package}", 1, 1, self.sources[0])
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Free the engine (on the thread that made it). Idempotent."""
        _ENGINES.pop(self._number, None)

    def decide(self, document: dict[str, object]) -> Verdict:
        """The verdict for ``document``. Raises PolicyError."""
        try:
            _ENGINES[self._number].set_input(document)  # as a Python value: no JSON round trip
            allow = _ENGINES[self._number].eval_rule(self._allow)
        except RuntimeError as exc:
            raise PolicyError(_first_lines(str(exc))) from None
        if allow is True:
            return Verdict(True)
        try:
            reason = _ENGINES[self._number].eval_rule(self._reason)
        except RuntimeError:
            reason = ""  # no reason rule, or it failed: the denial stands without one
        return Verdict(False, reason if isinstance(reason, str) else "")


def _first_lines(text: str) -> str:
    return " ".join(text.split("Stack backtrace:")[0].split())


def _rule_error(text: str, source: str) -> RuleError:
    body = text.split("Stack backtrace:")[0]
    where, error = _WHERE.search(body), _ERROR.search(body)
    message = error["message"].strip() if error else _first_lines(body)
    if where is None:
        return RuleError(message, 1, 1, source)
    return RuleError(message, int(where["line"]), int(where["column"]), where["file"])
