"""A sync folder's configuration, checked once at start into a typed value (pure).

``compile_folder`` turns the text of a ``sync.folders`` entry into a ``FolderSpec`` or raises
``ConfigError`` naming the entry and the field. ``wanted`` says whether a path (relative to
the folder, ``/``-separated) is a file of the folder: the include globs (none: everything),
less the exclude globs, less names a writer uses while it writes (hidden files, ``*.tmp``,
``*.part``, ``*~``…) — those are never complete, whatever the rule. ``key_for`` renders the
key template. Globs match the relative path and, for a glob without ``/``, the file's name.

``filtered`` is the filter in the rules language (docs/rules.md, the ``[sync]`` section): the
folder's own ``filter`` lines first, then the ``[sync]`` rules of ``rules.files``; the first
rule whose selector matches the file — as the object it would become: the folder's bucket,
the key it would be uploaded under, its size as ``hdr:content-length`` — decides, and a file
no rule matches is included. It is asked once a file is complete (its size is final then).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from s3d.rules.decide import Decision, RuleList
from s3d.rules.features import EXCLUDE
from s3d.rules.files import parse_rules
from s3d.rules.match import Facts
from s3d.rules.syntax import RuleError
from s3d.settings import ConfigError, SyncFolder

Completion = Literal["renamed", "quiet", "marker"]
After = Literal["keep", "delete", "move"]

WRITING = (".*", "*.tmp", "*.part", "*.partial", "*~", "*.swp", "*.crdownload")
"""Names of files still being written by the usual exporters (temp-then-rename)."""


@dataclass(frozen=True, slots=True)
class FolderSpec:
    directory: Path
    bucket: str
    key: str
    complete: Completion
    quiet: float
    markers: tuple[str, ...]
    after: After
    done_dir: Path | None
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    filter: RuleList = field(default_factory=lambda: RuleList("sync"))

    @property
    def name(self) -> str:
        """How logs and ``s3d status`` name the folder."""
        return str(self.directory)


def compile_folder(entry: SyncFolder, index: int) -> FolderSpec:
    """The typed spec of ``sync.folders[index]``. Raises ConfigError."""
    where = f"sync.folders[{index}]"

    def bad(field: str, why: str) -> ConfigError:
        return ConfigError(f"{where}.{field}: {why}")

    directory = Path(entry.directory).expanduser()
    if not directory.is_absolute():
        directory = directory.absolute()
    if not entry.bucket:
        raise bad("bucket", "a bucket is required")
    if "{" in entry.key.replace("{path}", "").replace("{name}", ""):
        raise bad("key", "only {path} and {name} may be substituted")
    if entry.complete not in ("renamed", "quiet", "marker"):
        raise bad("complete", "expected renamed, quiet or marker")
    if entry.after not in ("keep", "delete", "move"):
        raise bad("after", "expected keep, delete or move")
    try:
        quiet = float(entry.quiet)
    except ValueError:
        raise bad("quiet", "expected a number of seconds") from None
    if quiet < 0:
        raise bad("quiet", "expected a number of seconds >= 0")
    done_dir = Path(entry.done_dir).expanduser().absolute() if entry.done_dir else None
    if entry.after == "move" and done_dir is None:
        raise bad("done_dir", "after = move needs a done_dir")
    if done_dir is not None and done_dir.is_relative_to(directory):
        raise bad("done_dir", "must lie outside the folder it receives files from")
    return FolderSpec(
        directory,
        entry.bucket,
        entry.key,
        entry.complete,  # type: ignore[arg-type]  # checked above
        quiet,
        _globs(entry.markers),
        entry.after,  # type: ignore[arg-type]
        done_dir,
        _globs(entry.include),
        _globs(entry.exclude),
        _filter(entry.filter, where),
    )


def _filter(text: str, where: str) -> RuleList:
    """The folder's rule lines as a ``[sync]`` rule list. Raises ConfigError naming the
    line and column within the field."""
    try:
        sections = parse_rules("[sync]\n" + text, f"{where}.filter")
    except RuleError as exc:
        # One line less: the section header is ours, not the user's.
        raise ConfigError(f"{exc.source}:{exc.line - 1}:{exc.column}: {exc.message}") from None
    if set(sections) - {"sync"}:
        raise ConfigError(f"{where}.filter: only [sync] rules (include, exclude, +, -)")
    return RuleList.of("sync", sections.get("sync", []))


def _globs(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def matches(path: str, globs: tuple[str, ...]) -> bool:
    name = PurePosixPath(path).name
    return any(fnmatch.fnmatchcase(path if "/" in g else name, g) for g in globs)


def is_marker(spec: FolderSpec, path: str) -> bool:
    return spec.complete == "marker" and matches(path, spec.markers)


def wanted(spec: FolderSpec, path: str) -> bool:
    """A file of the folder that is to be uploaded (markers are not)."""
    parts = PurePosixPath(path).parts
    if any(matches(part, WRITING) for part in parts):
        return False
    if is_marker(spec, path):
        return False
    if spec.include and not matches(path, spec.include):
        return False
    return not matches(path, spec.exclude)


def key_for(spec: FolderSpec, path: str) -> str:
    return spec.key.replace("{path}", path).replace("{name}", PurePosixPath(path).name)


def filtered(spec: FolderSpec, path: str, size: int, shared: RuleList) -> Decision:
    """What the filters say of the complete file ``path`` of ``size`` bytes: the folder's own
    rules, then ``shared`` (the ``[sync]`` rules of the rule files). ``excluded`` tells."""
    facts = Facts(spec.bucket, key_for(spec, path), {"content-length": str(size)}, size=size)
    for rules in (spec.filter, shared):
        decision = rules.decide(facts)
        if decision.action is not None:
            return decision
    return Decision("sync", None)


def excluded(decision: Decision) -> bool:
    return decision.action == EXCLUDE
