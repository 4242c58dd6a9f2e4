"""Which parts of the input document a Rego policy reads, found once in its syntax tree, so
that a verdict can be remembered for every request that agrees on those parts.

Theory of operation: a policy's verdict is a function of its modules and of the input
values it refers to, unless it calls a builtin whose answer changes between calls
(``time.now_ns``, ``http.send``, ``rand.intn``…). Each reference rooted at ``input`` gives a
path: its dotted fields and literal string indexes, up to the first computed index
(``input.s3d.headers["content-type"]`` reads that header; ``input.s3d.tags[k]`` the whole tag
set); ``object.get(input.s3d, "size", d)`` reads ``s3d.size``; ``import input.s3d as s``
reads ``s3d`` whole. A bare ``input`` (passed on, assigned, iterated) reads everything. The
key of a request is the values at those paths; two requests with equal keys get the same
verdict. ``CurrentTime`` is in the document to the second, so a policy that reads it gets
a key that changes every second: still exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from s3d.rules.policy_input import PolicyInput

Path = tuple[str, ...]

CHANGING = frozenset({"time.now_ns", "http.send", "rand.intn", "uuid.rfc4122", "opa.runtime",
                      "net.lookup_ip_addr", "time.now"})  # fmt: skip
"""Builtins whose answer is not a function of their arguments: a policy calling one is
evaluated at every request."""


def input_paths(ast_json: str) -> tuple[Path, ...] | None:
    """The input paths the modules of ``ast_json`` (regorus' ``get_ast_as_json``) read, the
    shortest first (a path under one already read is dropped); None when a module calls a
    builtin that changes between calls."""
    found: set[Path] = set()
    for module in json.loads(ast_json):
        ast = module["ast"]
        for imported in ast.get("imports", ()):
            path = _reference(imported["refr"])
            if path is not None:
                found.add(path)
        try:
            found |= set(_walk(ast.get("rules", [])))
        except _Changing:
            return None
    kept: list[Path] = []
    for path in sorted(found, key=len):
        if not any(path[: len(p)] == p for p in kept):
            kept.append(path)
    return tuple(kept)


def verdict_key(document: Mapping[str, object] | PolicyInput, paths: tuple[Path, ...]) -> object:
    """The values of ``document`` at ``paths``, as one hashable value (absent parts are
    ``None``, as Rego sees them: undefined either way). A ``PolicyInput`` builds only the
    parts asked for."""
    return tuple(_freeze(_at(document, path)) for path in paths)


class _Changing(Exception):
    pass


def _walk(node: Any) -> Iterator[Path]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
        return
    if not isinstance(node, dict):
        return
    if "Call" in node:
        call = node["Call"]
        name = ".".join(str(part) for part in _chain(call["fcn"]))
        if name in CHANGING:
            raise _Changing(name)
        params = call.get("params", [])
        if name == "object.get" and len(params) >= 2 and "String" in params[1]:
            base = _reference(params[0])
            if base is not None:
                yield (*base, params[1]["String"]["value"])
                yield from _walk(params[2:])
                return
    path = _reference(node)
    if path is not None:
        yield path
        yield from _walk([p for p in _chain(node) if isinstance(p, dict)])  # computed indexes
        return
    for key, value in node.items():
        if key not in ("span", "eidx", "sidx", "qidx"):
            yield from _walk(value)


def _chain(node: Any) -> list[str | dict[str, Any]]:
    """A reference's parts from its root: names, and index expressions as they are; empty
    for anything that is not a reference."""
    if not isinstance(node, dict):
        return []
    if "Var" in node:
        return [node["Var"]["value"]]
    if "RefDot" in node:
        base = _chain(node["RefDot"]["refr"])
        return [*base, node["RefDot"]["field"][1]] if base else []
    if "RefBrack" in node:
        base, index = _chain(node["RefBrack"]["refr"]), node["RefBrack"]["index"]
        part = index["String"]["value"] if "String" in index else index
        return [*base, part] if base else []
    return []


def _reference(node: Any) -> Path | None:
    """The literal path of a reference rooted at ``input``, cut at its first computed index;
    None for anything else."""
    parts = _chain(node)
    if not parts or parts[0] != "input":
        return None
    path: list[str] = []
    for part in parts[1:]:
        if not isinstance(part, str):
            break
        path.append(part)
    return tuple(path)


def _at(document: Mapping[str, object] | PolicyInput, path: Path) -> object:
    if isinstance(document, PolicyInput):
        if not path:
            return document.document()
        value, path = document.part(path[0]), path[1:]
    else:
        value = document
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _freeze(value: object) -> object:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def rule_names(ast_json: str, package: str) -> frozenset[str]:
    """The names of the rules the modules of ``package`` (``s3d.authz``) define."""
    found: set[str] = set()
    for module in json.loads(ast_json):
        ast = module["ast"]
        if ".".join(str(p) for p in _chain(ast["package"]["refr"])) != package:
            continue
        for rule in ast.get("rules", []):
            for kind in rule.values():  # {"Spec": {"head": {"Compr": {"refr": …}}}} or
                heads = [kind] if "refr" in kind else list(kind.get("head", {}).values())
                for head in heads:  # {"Default": {"refr": …}}
                    parts = _chain(head.get("refr")) if isinstance(head, dict) else []
                    if parts:
                        found.add(str(parts[0]))
    return frozenset(found)
