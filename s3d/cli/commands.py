"""The command line: ``s3d serve``, ``s3d check-config``, ``s3d status``, ``s3d flush``,
``s3d journal retry|discard|forget-uploads``, ``s3d drs ls|get|import|export``
and ``s3d --version``.

Every setting is a flag of each command, generated from ``s3d.config.options()``. Flags not
given are absent from the parsed namespace (``argparse.SUPPRESS``) so that they never hide a
value from the file or the environment; the dataclass default is shown in the help text instead.
Only ``serve`` lists them all in its help; ``status``, ``flush``, ``journal`` and ``drs`` read the
same settings as ``serve`` to find the daemon and the key to sign with, and list only those
(``CLIENT_SETTINGS``), the others being accepted but not shown, so that each command's help says
what it takes and a usage error is a few lines. Exit codes: 0 success, 1 the daemon could not
start (port in use…) or, for the commands that ask a daemon, could not be reached or refused
(for ``flush``: or what remains are dead letters, or changes are still pending at
``--timeout``), 2 bad configuration or usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

from s3d.cli import drs_client
from s3d.cli import rules as rules_cli
from s3d.cli.admin_client import AdminClientError, AdminEndpoint, endpoint_for, fetch
from s3d.cli.journal_client import act_on_dead_letters, flush
from s3d.cli.mount import add_mount_parser, mount_settings
from s3d.cli.snapshots import run as run_snapshots
from s3d.cli.snapshots import snapshot_parsers
from s3d.cli.status_text import render_status
from s3d.config import ConfigError, Option, load_settings, options, render_settings
from s3d.settings import Settings
from s3d.version import version

_EPILOG = """\
Each setting comes from, in increasing order of precedence: its default, the TOML file
(--config, or $S3D_CONFIG), its S3D_* environment variable, its flag. All of them are
listed in docs/configuration.md."""
_CLIENT_EPILOG = """\
The daemon is found, and the request signed, from the settings `s3d serve` reads: give the
same --config (or $S3D_CONFIG, or S3D_* variables). Every flag of `s3d serve --help` is
accepted too. Exit codes: 0 done, 1 the daemon could not be reached or refused, 2 usage."""
CLIENT_SETTINGS = frozenset(
    {"data_dir", "server.host", "server.port", "server.access_keys", "server.tls_cert_file"}
)
"""The settings a command that asks a running daemon uses to find it and sign for it: the
only ones its help lists."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors exit from inside argparse
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if args.command == "serve":
            return _serve(_settings(args, os.environ))
        if args.command == "mount":
            return _serve(mount_settings(args, _settings(args, os.environ)))
        if args.command == "check-config":
            return _check_config(_settings(args, os.environ))
        if args.command == "rules":
            return rules_cli.run(args, lambda: _settings(args, os.environ))
        return _ask_daemon(args, _settings(args, os.environ))
    except ConfigError as exc:
        print(f"s3d: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """The output's reader went away (``s3d drs ls | head``): end quietly, as ``ls`` does,
    with the exit status of a process a SIGPIPE ended. Standard output is pointed at
    /dev/null so that the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The ``s3d`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="s3d", description="A local S3 endpoint in front of a remote bucket."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = _command(commands, "serve", "run the daemon until SIGTERM or SIGINT", _EPILOG)
    serve.usage = "%(prog)s [--config FILE] [SETTING FLAGS …]"
    _config_option(serve)
    check = _command(
        commands,
        "check-config",
        "print the effective configuration (secrets masked) and exit",
        "Takes every setting flag of `s3d serve --help`.",
    )
    check.add_argument(
        "config",
        nargs="?",
        metavar="FILE",
        type=Path,
        help="TOML configuration file (default: $S3D_CONFIG, else none)",
    )
    status = _command(
        commands, "status", "show a running daemon's state: its cache, journal and endpoints"
    )
    _daemon_options(status)
    status.add_argument("--json", action="store_true", help="print the status document as JSON")
    mount = add_mount_parser(commands, _HelpFormatter, _EPILOG)
    _config_option(mount)
    add_setting_flags(serve)
    add_setting_flags(mount)
    add_setting_flags(check, shown=frozenset())
    clients = (status, _flush_parser(commands), *_journal_parsers(commands))
    snapshots = snapshot_parsers(commands, _command, _daemon_options)
    rules = rules_cli.add_parsers(commands, _command)[1:]  # explain, reload
    for sub in (*clients, *_drs_parsers(commands), *snapshots, *rules):
        add_setting_flags(sub, shown=CLIENT_SETTINGS)
    return parser


def _drs_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> list[argparse.ArgumentParser]:
    drs = _command(commands, "drs", "the DRS catalogue of a running daemon")
    actions = drs.add_subparsers(dest="drs_command", required=True, metavar="ACTION")
    ls = _command(actions, "ls", "list every DRS object: id, size, where it is")
    ls.add_argument("--json", action="store_true", help="one drs.index JSON line per object")
    get = _command(actions, "get", "show one DRS object")
    get.add_argument("id", metavar="ID", help="a DRS object id")
    imp = _command(actions, "import", "check and ingest a drs.index (upsert by id)")
    imp.add_argument(
        "location",
        metavar="FILE|s3://BUCKET/KEY",
        help="a file the daemon can read, or an object it fetches with its remote credentials",
    )
    exp = _command(actions, "export", "write the catalogue as a drs.index into a bucket")
    exp.add_argument(
        "location",
        metavar="s3://BUCKET/KEY",
        help="where to write it (through the daemon, like any PUT); gzip when KEY ends in .gz",
    )
    parsers = [ls, get, imp, exp]
    for parser in parsers:
        _daemon_options(parser)
    return parsers


def _flush_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    flush = _command(
        commands,
        "flush",
        "upload every change pending in a running daemon's journal now, and wait until done",
    )
    _daemon_options(flush)
    flush.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        help="give up (exit 1) when changes are still pending after this long (default: none)",
    )
    flush.add_argument("--json", action="store_true", help="print the outcome as one JSON document")
    return flush


def _journal_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> list[argparse.ArgumentParser]:
    journal = _command(commands, "journal", "act on the dead letters of a daemon's journal")
    actions = journal.add_subparsers(dest="journal_command", required=True, metavar="ACTION")
    dead = "a dead letter's id, as `s3d status` lists them"
    parsers = [
        (_command(actions, "retry", "put dead letters back in the upload queue"), dead),
        (
            _command(
                actions,
                "discard",
                "give up dead letters: their changes never reach the remote (with --all, the "
                "later changes they held back that the remote refuses too go as well)",
            ),
            dead,
        ),
        (
            _command(
                actions,
                "forget-uploads",
                "stop trying to abort multipart uploads left open on the remote (one whose "
                "bucket is gone can never be aborted)",
            ),
            "a remote upload id, as `s3d status` lists them",
        ),
    ]
    for parser, what in parsers:
        _daemon_options(parser)
        kind = str if what != dead else _dead_letter_id
        chosen = parser.add_mutually_exclusive_group(required=True)
        chosen.add_argument("ids", nargs="*", default=[], metavar="ID", type=kind, help=what)
        chosen.add_argument("--all", action="store_true", help="every one of them")
    return [parser for parser, _ in parsers]


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")
    return seconds


def _dead_letter_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) < 20 and int(text) > 0):
        raise argparse.ArgumentTypeError(f"expected a dead letter's id (a number), got {text!r}")
    return int(text)


def _daemon_options(parser: argparse.ArgumentParser) -> None:
    _config_option(parser)
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="the daemon's URL (default: from server.host, server.port and server.tls_cert_file)",
    )


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="TOML configuration file (default: $S3D_CONFIG, else none)",
    )


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    text: str,
    epilog: str = _CLIENT_EPILOG,
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=text,
        description=textwrap.fill(text[0].upper() + text[1:] + ".", 79),
        epilog=epilog,
        formatter_class=_HelpFormatter,
    )


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Wraps help text without splitting words at hyphens, so ``us-east-1`` stays whole."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def add_setting_flags(parser: argparse.ArgumentParser, shown: frozenset[str] | None = None) -> None:
    """One flag per setting, grouped by TOML section, storing text under the dotted key;
    only those ``shown`` (default: all) appear in the help and the usage line."""
    groups: dict[str | None, argparse._ArgumentGroup] = {}
    for option in options():
        visible = shown is None or option.key in shown
        group: argparse._ActionsContainer = parser
        if visible:
            if option.section not in groups:
                title = f"[{option.section}] settings" if option.section else "settings"
                groups[option.section] = parser.add_argument_group(title)
            group = groups[option.section]
        kwargs: dict[str, object] = {}
        if option.kind.base == "boolean":
            kwargs = {"nargs": "?", "const": "true"}  # "--flag" alone means true
        elif option.kind.base == "records":
            kwargs = {"action": "append"}
        group.add_argument(
            option.flag,
            dest=option.key,
            metavar=option.metavar,
            default=argparse.SUPPRESS,
            help=_help(option).replace("%", "%%") if visible else argparse.SUPPRESS,
            **kwargs,  # type: ignore[arg-type]
        )


def _help(option: Option) -> str:
    repeat = "; repeatable" if option.kind.base == "records" else ""
    return f"{option.help} (default: {option.default_text}; env {option.env}{repeat})"


def _settings(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    given = vars(args)
    config: Path | None = given.get("config")
    if config is None and env.get("S3D_CONFIG"):
        config = Path(env["S3D_CONFIG"])
    flags = {option.key: given[option.key] for option in options() if option.key in given}
    return load_settings(config, env, flags)


def _check_config(settings: Settings) -> int:
    sys.stdout.write(render_settings(settings))
    return 0


def _ask_daemon(args: argparse.Namespace, settings: Settings) -> int:
    """``status``, ``flush`` or ``journal …``: the exit code. Raises ConfigError."""
    endpoint = endpoint_for(settings, args.endpoint)
    try:
        if args.command == "status":
            document = fetch(endpoint, "status")
            text = json.dumps(document, indent=2) + "\n" if args.json else render_status(document)
            sys.stdout.write(text)
            return 0
        if args.command == "flush":
            return flush(endpoint, args.timeout, sys.stdout, sys.stderr, as_json=args.json)
        if args.command == "drs":
            return _drs(endpoint, args)
        if args.command == "snapshots":
            return run_snapshots(endpoint, args)
        ids = None if args.all else args.ids
        sys.stdout.write(act_on_dead_letters(endpoint, args.journal_command, ids))
        return 0
    except AdminClientError as exc:
        print(f"s3d: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the daemon goes on with what it was asked (a flush continues)
        return 130


def _drs(endpoint: AdminEndpoint, args: argparse.Namespace) -> int:
    """``s3d drs …``. Raises AdminClientError."""
    action = args.drs_command
    if action == "ls":
        drs_client.list_objects(endpoint, sys.stdout, sys.stderr, as_json=args.json)
    elif action == "get":
        drs_client.get_object(endpoint, args.id, sys.stdout)
    else:
        drs_client.transfer(endpoint, action, args.location, sys.stdout, sys.stderr)
    return 0


def _serve(settings: Settings) -> int:
    # Imported here: the daemon pulls in aiohttp, aiobotocore and moto, which check-config
    # and --help do not need.
    from s3d.daemon import serve
    from s3d.daemon.startup import StartupError

    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 130
    except StartupError as exc:
        print(f"s3d: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # What stops a start is nearly always the machine's state (port in use, data directory
        # not writable): say so in one line rather than with a traceback.
        print(f"s3d: {exc}", file=sys.stderr)
        return 1
    return 0
