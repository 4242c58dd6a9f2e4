"""The snapshot endpoints' part of the composition root: rules, credentials, gpg.

The naming patterns are compiled once (a bad one stops the start with ConfigError). The
OpenPGP passphrase is read once from ``snapshots.passphrase_file`` or the variable named by
``snapshots.passphrase_env``; gpg gets a home directory of its own under the data directory
(mode 0700, as gpg insists), so no user keyring or agent is involved.
"""

from __future__ import annotations

import os
from pathlib import Path

from s3d.daemon.drs_start import read_tokens
from s3d.gateway import Gateway
from s3d.server.auth import Authenticator
from s3d.server.snapshots import SnapshotAccess, SnapshotApi
from s3d.settings import AccessKey, ConfigError, Settings
from s3d.snapshots.gpg import Gpg
from s3d.snapshots.naming import NamingRules
from s3d.snapshots.sets import SnapshotSets


def snapshot_api(
    settings: Settings,
    gateway: Gateway,
    authenticator: Authenticator,
    keys: tuple[AccessKey, ...],
) -> SnapshotApi | None:
    """The snapshot endpoints, or None when turned off. Raises ConfigError."""
    config = settings.snapshots
    if not config.enabled:
        return None
    rules = NamingRules.compile(config.timestamp_pattern, config.variant_pattern)
    access = SnapshotAccess(
        keys={k.access_key_id: k.secret_access_key for k in keys},
        bearer_tokens=read_tokens(config.bearer_tokens_file),
        base_domains=settings.server.base_domains,
        decrypt_suffixes=config.decrypt_suffixes,
        gpg=_gpg(settings),
    )
    return SnapshotApi(SnapshotSets(gateway, rules), authenticator, access)


def _gpg(settings: Settings) -> Gpg | None:
    config = settings.snapshots
    passphrase: bytes | None = None
    if config.passphrase_file is not None:
        passphrase = config.passphrase_file.read_bytes().rstrip(b"\r\n")
    elif config.passphrase_env:
        value = os.environ.get(config.passphrase_env)
        if value is None:
            raise ConfigError(
                f"snapshots.passphrase_env: the variable {config.passphrase_env} is not set"
            )
        passphrase = value.encode()
    if passphrase is None:
        return None
    homedir = settings.data_dir / "snapshots" / "gnupg"
    _private_dir(homedir)
    return Gpg(config.gpg, passphrase, homedir)


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
