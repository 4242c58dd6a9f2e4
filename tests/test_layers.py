"""Imports point one way (DESIGN.md, "Layers and where they live"), checked on the source.

Every module under ``s3d/`` is placed in a layer by ``LAYERS``; its imports (all of them: at
the top, inside functions, under ``TYPE_CHECKING``) are read with ``ast``. A violation is a
module importing from a higher layer, a library imported outside its adapter, an import cycle
between top-level packages or modules of ``s3d``, or a module the table does not place. A new
module needs a row here; a new violation fails the test with the offending line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "s3d"

# Lowest first. "shared" holds leaves every layer may read: the settings values and their
# error, the version, the tracing seam (``trace()``, a no-op until the daemon installs a
# tracer: services open spans at their edges through it). They import nothing from s3d but
# each other.
RANKS = {"shared": 0, "core": 1, "services": 2, "adapters": 3, "entry": 4}
LAYERS: tuple[tuple[str, str], ...] = (
    ("__init__.py", "shared"),
    ("settings.py", "shared"),
    ("version.py", "shared"),
    ("telemetry/", "shared"),
    ("protocol/", "core"),
    ("rules/", "core"),
    ("ports.py", "services"),
    ("staging.py", "services"),
    ("durable.py", "services"),
    ("database.py", "services"),
    ("cache/", "services"),
    ("journal/", "services"),
    ("catalogue/", "services"),
    ("folders/", "services"),
    ("sync/", "services"),
    ("snapshots/", "services"),
    ("gateway.py", "services"),
    ("decisions/", "services"),
    ("bucket_facts.py", "services"),
    ("write_decision.py", "services"),
    ("anonymous.py", "services"),
    ("server/", "adapters"),
    ("remote/", "adapters"),
    ("fuse/", "adapters"),
    ("tracing/", "adapters"),
    ("metrics/", "adapters"),
    ("cli/", "entry"),
    ("daemon/", "entry"),
    ("config/", "entry"),
    ("__main__.py", "entry"),
)
# A library and where it may be imported: only its adapter talks to it.
LIBRARIES = {
    "aiohttp": ("server/", "remote/"),
    "aiobotocore": ("remote/",),
    "botocore": ("remote/",),
    "pyfuse3": ("fuse/",),
    # The seam and the tracer provider's set-up (the OpenTelemetry adapter).
    "opentelemetry": ("telemetry/", "tracing/"),
    "moto": ("remote/",),
    "prometheus_client": ("metrics/",),
    "asyncinotify": ("sync/",),
    # The terminal progress bar of the long commands (s3d/cli/progress.py).
    "tqdm": ("cli/",),
    # The Rego interpreter: pure evaluation, no I/O, wrapped by the rules core.
    "regorus": ("rules/",),
}

# Known violations in code being reshaped elsewhere (s3d/journal/, s3d/gateway.py), as
# "importer -> imported" (a violation line up to its location). Each entry is removed by the
# change that fixes it, and the test fails when an entry no longer happens, so the list only
# shrinks. Empty: the journal and the gateway import nothing above the services today.
ALLOWED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every import in ``path``, wherever it stands, resolved to absolute module names."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            for alias in node.names:
                # ``from s3d.cli import drs_client`` imports the module s3d.cli.drs_client.
                candidate = f"{base}.{alias.name}"
                is_module = _source_of(candidate, root) is not None
                found.append(Import(name, candidate if is_module else base, node.lineno))
    return found


def _source_of(module: str, root: Path) -> Path | None:
    parts = module.split(".")
    if parts[0] != root.name:
        return None
    if len(parts) == 1:
        return root / "__init__.py"
    relative = Path(*parts[1:])
    for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def place(module: str, root: Path) -> str:
    """The row of ``LAYERS`` holding ``module`` (a path relative to the package root)."""
    source = _source_of(module, root)
    assert source is not None, module
    relative = source.relative_to(root).as_posix()
    for pattern, _ in LAYERS:
        if relative == pattern or (pattern.endswith("/") and relative.startswith(pattern)):
            return pattern
    return ""


def layer_of(module: str, root: Path) -> str | None:
    return dict(LAYERS).get(place(module, root))


def unit_of(module: str) -> str:
    """The top-level package or module of s3d holding ``module``: what cycles are counted on."""
    return ".".join(module.split(".")[:2])


def violations(root: Path) -> list[str]:
    """Every breach of the layer rules under the package at ``root``, as readable lines."""
    found: list[str] = []
    edges: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        layer = layer_of(importer, root)
        if layer is None:
            found.append(f"{importer}: not in the layer table")
            continue
        for imp in imports_of(path, root):
            found += _check(imp, layer, path, root)
            if _source_of(imp.imported, root) is not None:
                a, b = unit_of(importer), unit_of(imp.imported)
                if a != b:
                    edges.setdefault(a, set()).add(b)
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(edges)]
    return found


def _check(imp: Import, layer: str, path: Path, root: Path) -> list[str]:
    where = f"{path.relative_to(root.parent)}:{imp.line}"
    top = imp.imported.split(".")[0]
    if top in LIBRARIES:
        if place(imp.importer, root) not in LIBRARIES[top]:
            return [f"{imp.importer} -> {top} ({where}): {top} belongs to its adapter"]
        return []
    target = layer_of(imp.imported, root) if _source_of(imp.imported, root) else None
    if target is not None and RANKS[target] > RANKS[layer]:
        return [f"{imp.importer} -> {imp.imported} ({where}): {layer} imports {target}"]
    return []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One path around each cycle of the graph, from a depth-first search."""
    cycles, done = [], set()

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt in trail:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in done:
                visit(nxt, [*trail, nxt])
        done.add(node)

    for start in sorted(edges):
        if start not in done:
            visit(start, [start])
    return cycles


def _key(line: str) -> str:
    """``importer -> imported`` of a violation line, as ALLOWED names it."""
    return line.split(" (")[0]


def judge(found: list[str], allowed: frozenset[str]) -> list[str]:
    """The violations not allowed, and the allowed ones that no longer happen."""
    new = [line for line in found if _key(line) not in allowed]
    gone = sorted(allowed - {_key(line) for line in found})
    return new + [f"{entry}: no longer happens, remove it from ALLOWED" for entry in gone]


def test_s3d_imports_point_one_way() -> None:
    problems = judge(violations(ROOT), ALLOWED)
    assert problems == [], "\n".join(problems)


# The checker itself, on synthetic trees: each rule must catch its breach.


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "s3d"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
        if "/" in name:
            (root / name).parent.joinpath("__init__.py").touch()
    return root


def test_a_clean_tree_has_no_violation(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "cli/main.py": "from s3d.daemon.root import serve\nimport s3d.settings\n",
            "daemon/root.py": "from s3d.server.app import build\nfrom s3d import version\n",
            "server/app.py": "import aiohttp\nfrom s3d.gateway import Gateway\n",
            "gateway.py": "from s3d.protocol import model\n",
            "protocol/model.py": "from . import errors\nfrom .errors import S3Error\n",
            "protocol/errors.py": "",
            "settings.py": "",
            "version.py": "",
        },
    )
    assert violations(root) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # A service reaching up into an adapter, hidden in a function.
        (
            {"cache/a.py": "def f():\n    from s3d.server import app\n", "server/app.py": ""},
            "s3d.cache.a -> s3d.server.app (s3d/cache/a.py:2): services imports adapters",
        ),
        # The pure core reaching a service, for typing only: still an import.
        (
            {
                "protocol/m.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from s3d.ports import Remote\n",
                "ports.py": "",
            },
            "s3d.protocol.m -> s3d.ports (s3d/protocol/m.py:3): core imports services",
        ),
        # A relative import is resolved before it is judged.
        (
            {"server/x.py": "from ..cli import main\n", "cli/main.py": ""},
            "s3d.server.x -> s3d.cli.main (s3d/server/x.py:1): adapters imports entry",
        ),
        # A library outside its adapter.
        (
            {"daemon/root.py": "from aiohttp import web\n"},
            "s3d.daemon.root -> aiohttp (s3d/daemon/root.py:1): aiohttp belongs to its adapter",
        ),
        ({"cache/b.py": "import botocore.exceptions\n"}, "s3d.cache.b -> botocore"),
        # A module nobody placed.
        ({"helpers.py": ""}, "s3d.helpers: not in the layer table"),
        # Entry modules importing each other both ways.
        (
            {"cli/c.py": "from s3d.daemon import d\n", "daemon/d.py": "from s3d.cli import c\n"},
            "import cycle: s3d.cli -> s3d.daemon -> s3d.cli",
        ),
    ],
)
def test_each_rule_catches_its_breach(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    found = violations(tree(tmp_path, files))
    assert any(line.startswith(expected) for line in found), found


def test_the_allow_list_passes_its_entries_and_only_shrinks(tmp_path: Path) -> None:
    found = violations(
        tree(tmp_path, {"journal/a.py": "import s3d.remote.client\n", "remote/client.py": ""})
    )
    entry = "s3d.journal.a -> s3d.remote.client"
    assert judge(found, frozenset({entry})) == []
    assert [_key(line) for line in judge(found, frozenset())] == [entry]
    stale = judge([], frozenset({entry}))
    assert stale == [f"{entry}: no longer happens, remove it from ALLOWED"]
