"""The snapshot endpoints' part of the composition root: rules, credentials, gpg.

The naming patterns are compiled once (a bad one stops the start with ConfigError). The
OpenPGP passphrase is read once at start from ``snapshots.passphrase_file``, the variable named
by ``snapshots.passphrase_env`` or the Secrets Manager secret ``snapshots.passphrase_secret``
(read with the remote's credentials; the first of them set wins); gpg gets a home directory
of its own under the data directory (mode 0700, as gpg insists), so no user keyring or agent
is involved.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from s3d.daemon.drs_start import read_tokens
from s3d.gateway import Gateway
from s3d.remote.secrets import secret_string
from s3d.server.auth import Authenticator
from s3d.server.snapshots import SnapshotAccess, SnapshotApi
from s3d.settings import AccessKey, ConfigError, Settings
from s3d.snapshots.gpg import Gpg
from s3d.snapshots.naming import NamingRules
from s3d.snapshots.sets import SnapshotSets


async def snapshot_api(
    settings: Settings,
    gateway: Gateway,
    authenticator: Authenticator,
    keys: tuple[AccessKey, ...],
) -> SnapshotApi | None:
    """The snapshot endpoints, or None when turned off. Raises ConfigError."""
    config = settings.snapshots
    if not config.enabled:
        return None
    rules = NamingRules.compile(config.timestamp_pattern, config.variant_pattern, config.markers)
    access = SnapshotAccess(
        keys={k.access_key_id: k.secret_access_key for k in keys},
        bearer_tokens=read_tokens(config.bearer_tokens_file),
        base_domains=settings.server.base_domains,
        decrypt_suffixes=config.decrypt_suffixes,
        gpg=_gpg(settings, await _passphrase(settings)),
        sets=named_sets(config.sets),
    )
    return SnapshotApi(SnapshotSets(gateway, rules), authenticator, access)


def named_sets(entries: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """``NAME=BUCKET[/PREFIX]`` entries as name → (bucket, prefix). Raises ConfigError naming
    the entry that is not of that form, or a name given twice."""
    sets: dict[str, tuple[str, str]] = {}
    for entry in entries:
        name, equals, where = entry.partition("=")
        bucket, _, prefix = where.strip().partition("/")
        name = name.strip()
        if not equals or not name or "/" in name or not bucket:
            raise ConfigError(f"snapshots.sets: {entry!r} is not NAME=BUCKET[/PREFIX]")
        if name in sets:
            raise ConfigError(f"snapshots.sets: the set {name!r} is named twice")
        sets[name] = (bucket, prefix)
    return sets


async def _passphrase(settings: Settings) -> bytes | None:
    config = settings.snapshots
    if config.passphrase_file is not None:
        return config.passphrase_file.read_bytes().rstrip(b"\r\n")
    if config.passphrase_env:
        value = os.environ.get(config.passphrase_env)
        if value is None:
            raise ConfigError(
                f"snapshots.passphrase_env: the variable {config.passphrase_env} is not set"
            )
        return value.encode()
    if config.passphrase_secret:
        what = "snapshots.passphrase_secret"
        text = await secret_string(settings.remote, config.passphrase_secret, what=what)
        return _from_secret(text, config.passphrase_secret).encode()
    return None


def _from_secret(text: str, secret_id: str) -> str:
    """The passphrase a secret holds: its string, or a JSON object's ``passphrase``."""
    if not text.lstrip().startswith("{"):
        return text
    try:
        value = json.loads(text)["passphrase"]
    except (ValueError, KeyError, TypeError):
        value = None
    if not isinstance(value, str):
        raise ConfigError(
            f"snapshots.passphrase_secret: the secret {secret_id} is a JSON object without "
            "a string 'passphrase'"
        )
    return value


def _gpg(settings: Settings, passphrase: bytes | None) -> Gpg | None:
    if passphrase is None:
        return None
    homedir = settings.data_dir / "snapshots" / "gnupg"
    _private_dir(homedir)
    return Gpg(settings.snapshots.gpg, passphrase, homedir)


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
