"""Rego policies, evaluated in-process by regorus (the gordon-to-regorus build of Microsoft's
Rust interpreter): compiled once at load, then one evaluation per request on the caller's
thread (no I/O; about 10 µs for a small policy, see docs/rules.md for the comparison with
regopy that chose it).

A policy package answers ``allow`` (a boolean; undefined means deny) and may answer ``reason``
(a string, logged when a request is denied, never sent), ``write_queue`` and ``read_cache``
(routing: the words of a rule file's sections, see ``routing.py``). The package is
``s3d.authz`` unless configured otherwise.

Verdicts are remembered (up to ``remembered``, all forgotten at once beyond it) under the
values of the input fields the modules read (``rego_ast.py``): a policy that reads only the
account, action and bucket is evaluated once per such triple, not once per request. A
policy calling a builtin whose answer changes between calls is evaluated every time. A
reload makes a new ``Policies``, so nothing remembered outlives the modules it came from.

A compilation error is a ``RuleError`` with the file, line and column
regorus reports; an evaluation error is a ``PolicyError`` the caller turns into its
configured fail-open or fail-closed answer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import regorus

from s3d.rules.policy_input import PolicyInput
from s3d.rules.rego_ast import Path, input_paths, rule_names, verdict_key
from s3d.rules.syntax import RuleError

ROUTES = ("write_queue", "read_cache")
"""The routing rules a policy package may define (docs/rules.md)."""

_WHERE = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<column>\d+)")
_ERROR = re.compile(r"^error:\s*(?P<message>.+)$", re.MULTILINE)


class PolicyError(RuntimeError):
    """A policy could not be evaluated for a request (division by zero, conflicting
    values…): the message says where, never what the input held."""


@dataclass(frozen=True, slots=True)
class Verdict:
    allow: bool
    reason: str = ""
    routes: tuple[tuple[str, object], ...] = ()
    """(rule name, value) of the routing rules the package defines and that had a value."""


_ENGINES: dict[int, regorus.Engine] = {}
"""Every engine in use, by its ``Policies``' number. A regorus engine may only be freed on the
thread that made it, and a ``Policies`` may be collected anywhere (a traceback kept by a
denial holds it): the engine stays here until ``close`` frees it on the right thread."""
_numbers = itertools.count()


class Policies:
    """Compiled Rego modules; ``decide`` evaluates one input. Used on the thread that made it
    (the daemon's event loop), and closed there."""

    def __init__(
        self,
        modules: Iterable[tuple[str, str]],
        package: str = "s3d.authz",
        remembered: int = 4096,
    ) -> None:
        """``modules``: (file name, text). Raises RuleError for a module that does not
        compile, or when none defines ``package``."""
        self._number = next(_numbers)
        _ENGINES[self._number] = regorus.Engine()
        self.sources: tuple[str, ...] = ()
        self._allow = f"data.{package}.allow"
        self._reason = f"data.{package}.reason"
        self._package = f"data.{package}"
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
            tree = _ENGINES[self._number].get_ast_as_json()
        except BaseException:
            self.close()
            raise
        self._paths: tuple[Path, ...] | None = input_paths(tree) if remembered > 0 else None
        names = rule_names(tree, package)
        self.routes = tuple(r for r in ROUTES if r in names)
        """The routing rules the package defines."""
        self._remembered = remembered
        self._verdicts: dict[object, Verdict] = {}
        self.evaluations = 0
        """Verdicts evaluated (not remembered ones)."""

    def close(self) -> None:
        """Free the engine (on the thread that made it). Idempotent."""
        _ENGINES.pop(self._number, None)

    def decide(self, document: dict[str, object] | PolicyInput) -> Verdict:
        """The verdict for ``document`` (a remembered one when the fields the policy reads
        agree with an earlier document's). Raises PolicyError (never remembered)."""
        if self._paths is None:
            return self._evaluate(_whole(document))
        key = verdict_key(document, self._paths)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._evaluate(_whole(document))
            if len(self._verdicts) >= self._remembered:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _evaluate(self, document: dict[str, object]) -> Verdict:
        self.evaluations += 1
        try:
            _ENGINES[self._number].set_input(document)  # as a Python value: no JSON round trip
            allow = _ENGINES[self._number].eval_rule(self._allow)
        except RuntimeError as exc:
            raise PolicyError(_first_lines(str(exc))) from None
        if allow is True:
            return Verdict(True, routes=self._routes())
        try:
            reason = _ENGINES[self._number].eval_rule(self._reason)
        except RuntimeError:
            reason = ""  # no reason rule, or it failed: the denial stands without one
        return Verdict(False, reason if isinstance(reason, str) else "")

    def _routes(self) -> tuple[tuple[str, object], ...]:
        found = []
        for name in self.routes:
            try:
                value = _ENGINES[self._number].eval_rule(f"{self._package}.{name}")
            except RuntimeError as exc:
                raise PolicyError(_first_lines(str(exc))) from None
            if value is not None:
                found.append((name, value))
        return tuple(found)


def _whole(document: dict[str, object] | PolicyInput) -> dict[str, object]:
    return document.document() if isinstance(document, PolicyInput) else document


def _first_lines(text: str) -> str:
    return " ".join(text.split("Stack backtrace:")[0].split())


def _rule_error(text: str, source: str) -> RuleError:
    body = text.split("Stack backtrace:")[0]
    where, error = _WHERE.search(body), _ERROR.search(body)
    message = error["message"].strip() if error else _first_lines(body)
    if where is None:
        return RuleError(message, 1, 1, source)
    return RuleError(message, int(where["line"]), int(where["column"]), where["file"])
