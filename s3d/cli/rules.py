"""``s3d rules check FILE…`` and ``s3d rules explain s3://BUCKET/KEY``: the filter rules
without a daemon (docs/rules.md); ``s3d rules reload``: a running daemon's.

``check`` reads every file through, printing each bad line as ``file:line:column: message``
on stderr; exit 0 when all are good, 2 otherwise. ``explain`` decides one object with the
configured rule files (``rules.files``, or ``--rules``) and the tags, headers and size given,
and prints each feature's decision and the rule line that made it (tag overrides included).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from s3d.cli.admin_client import AdminClientError, AdminEndpoint, endpoint_for, fetch
from s3d.rules import overrides
from s3d.rules.decide import Decision, RuleSet, load_texts
from s3d.rules.features import FEATURES
from s3d.rules.files import parse_rules
from s3d.rules.match import Facts
from s3d.rules.numbers import parse_size
from s3d.rules.syntax import RuleError
from s3d.settings import Settings


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    command: Callable[..., argparse.ArgumentParser],
) -> list[argparse.ArgumentParser]:
    """``rules check``, ``rules explain`` and ``rules reload``; ``command`` makes a
    subcommand's parser."""
    rules = command(commands, "rules", "check filter rule files, or explain their decisions")
    actions = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    check = command(actions, "check", "read rule files and report every bad line (exit 2)")
    check.add_argument("files", nargs="+", metavar="FILE", type=Path, help="a rule file")
    explain = command(actions, "explain", "print what each feature's rules decide for an object")
    explain.add_argument("url", metavar="s3://BUCKET/KEY", help="the object")
    explain.add_argument(
        "--rules",
        action="append",
        type=Path,
        metavar="FILE",
        help="rule files to use instead of rules.files; repeatable",
    )
    for flag, text in (
        ("--tag", "an object tag"),
        ("--bucket-tag", "a tag of the bucket"),
        ("--header", "an object header (x-amz-meta-NAME for user metadata)"),
    ):
        explain.add_argument(
            flag,
            action="append",
            default=[],
            type=_pair,
            metavar="NAME=VALUE",
            help=f"{text}; repeatable",
        )
    explain.add_argument("--size", type=_size, metavar="SIZE", help="the object's size")
    reload = command(actions, "reload", "make a running daemon read its rule files again")
    reload.add_argument("--endpoint", metavar="URL", help="the daemon's URL (default: from "
                        "server.host, server.port and server.tls_cert_file)")  # fmt: skip
    for parser in (explain, reload):
        parser.add_argument(
            "--config",
            metavar="FILE",
            type=Path,
            help="TOML configuration file (default: $S3D_CONFIG, else none)",
        )
    return [check, explain, reload]


def run(
    args: argparse.Namespace, settings: Callable[[], Settings], out: TextIO = sys.stdout
) -> int:
    """The exit code of ``s3d rules …``. Raises ConfigError (from ``settings``)."""
    if args.rules_command == "check":
        return check(args.files, out, sys.stderr)
    if args.rules_command == "reload":
        return reload(endpoint_for(settings(), args.endpoint), out)
    files = tuple(str(f) for f in args.rules) if args.rules else settings().rules.files
    try:
        rules = load_texts((name, Path(name).read_text(encoding="utf-8")) for name in files)
    except (RuleError, OSError) as exc:
        print(f"s3d: {exc}", file=sys.stderr)
        return 2
    bucket, _, key = args.url.removeprefix("s3://").partition("/")
    if not args.url.startswith("s3://") or not bucket or not key:
        print(f"s3d: expected s3://BUCKET/KEY, got {args.url!r}", file=sys.stderr)
        return 2
    headers = {name.lower(): value for name, value in args.header}
    facts = Facts(bucket, key, headers, dict(args.tag), dict(args.bucket_tag), args.size)
    for decision in explain(rules, facts):
        out.write(decision.explain() + "\n")
    return 0


def reload(endpoint: AdminEndpoint, out: TextIO) -> int:
    """0 once the daemon has its files in force; 1 when it refused them (it says why and
    keeps its rules) or could not be reached."""
    try:
        document = fetch(endpoint, "rules/reload", "POST")
    except AdminClientError as exc:
        print(f"s3d: {exc}", file=sys.stderr)
        return 1
    rules = document.get("rules", {})
    count = sum(rules.values()) if isinstance(rules, dict) else 0
    files = ", ".join(document.get("files", [])) or "no files"
    out.write(f"rules reloaded: {count} from {files}\n")
    return 0


def explain(rules: RuleSet, facts: Facts) -> list[Decision]:
    """Each feature's decision for ``facts``, tag overrides included."""
    decisions = [rules.get(feature).decide(facts) for feature in FEATURES]
    decisions[0] = overrides.on_write(decisions[0], facts.tags)
    decisions[1] = overrides.on_read(decisions[1], facts.tags)
    return decisions


def check(files: list[Path], out: TextIO, err: TextIO) -> int:
    """0 when every file reads, else 2 with each error on ``err``."""
    bad = False
    for path in files:
        errors: list[RuleError] = []
        try:
            sections = parse_rules(path.read_text(encoding="utf-8"), str(path), errors)
        except (OSError, UnicodeDecodeError) as exc:
            err.write(f"{path}: cannot read: {exc}\n")
            bad = True
            continue
        for error in errors:
            err.write(f"{error}\n")
        bad = bad or bool(errors)
        if not errors:
            counts = ", ".join(f"{f} {len(r)}" for f, r in sections.items()) or "no rules"
            out.write(f"{path}: ok ({counts})\n")
    return 2 if bad else 0


def _pair(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not name or not equals:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _size(text: str) -> int:
    size = parse_size(text)
    if size is None:
        raise argparse.ArgumentTypeError(f"expected a size (100, 64KiB, 1.5GB…), got {text!r}")
    return size
