"""``s3d mount BUCKET[/PREFIX] MOUNTPOINT``: a daemon serving that one mount, the way
``mount-s3 bucket dir`` runs one; the same as ``s3d serve --mount BUCKET[/PREFIX]:MOUNTPOINT``
with every other setting from the file, the environment and the flags as for ``serve``. It
runs in the foreground until SIGTERM or SIGINT, which unmount first.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from s3d.settings import MountSpec, Settings


def add_mount_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    command: type[argparse.HelpFormatter],
    epilog: str,
) -> argparse.ArgumentParser:
    text = "run a daemon serving one FUSE mount of a bucket or prefix, until SIGTERM or SIGINT"
    parser = commands.add_parser(
        "mount", help=text, description=text[0].upper() + text[1:] + ".", epilog=epilog,
        formatter_class=command,
    )  # fmt: skip
    parser.add_argument("source", metavar="BUCKET[/PREFIX]", help="what the mount shows")
    parser.add_argument("mountpoint", metavar="MOUNTPOINT", type=Path, help="an empty directory")
    parser.add_argument("--read-only", action="store_true", help="refuse every change with EROFS")
    return parser


def mount_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """``settings`` with the one mount the command line names (and ``--read-only``)."""
    spec = MountSpec(args.source, str(args.mountpoint))
    fuse = dataclasses.replace(
        settings.fuse, mounts=(spec,), read_only=settings.fuse.read_only or args.read_only
    )
    return dataclasses.replace(settings, fuse=fuse)
