"""s3d's version, read from the installed package's metadata.

A leaf beside ``settings``: the command line prints it, the daemon reports it (status, DRS
service info), and neither should import the other to learn it.
"""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    """s3d's installed version ("unknown" when running from a source tree not installed)."""
    try:
        return metadata.version("s3d")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"
