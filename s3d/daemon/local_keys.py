"""The local access key pair generated when none is configured.

Owns ``<data-dir>/local-credentials.json`` (mode 0600). Created once, on the first start
without configured keys, and reused afterwards so clients keep working across restarts;
``s3d status`` reads it to sign its requests.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from pathlib import Path

from s3d.settings import AccessKey

FILE_NAME = "local-credentials.json"
_ID_ALPHABET = string.ascii_uppercase + string.digits


def load(data_dir: Path) -> AccessKey | None:
    """The generated key pair kept in ``data_dir``, None if there is none yet. Blocking.

    Raises OSError when the file cannot be read, ValueError or KeyError when it is not one of
    ours (JSON with both fields)."""
    try:
        document = json.loads((data_dir / FILE_NAME).read_text())
    except FileNotFoundError:
        return None
    return AccessKey(document["access_key_id"], document["secret_access_key"])


def load_or_create(data_dir: Path) -> tuple[AccessKey, bool]:
    """The generated key pair, and whether it was created just now. Blocking: call it from a
    worker thread."""
    path = data_dir / FILE_NAME
    existing = load(data_dir)
    if existing is not None:
        return existing, False
    key = AccessKey(
        "S3D" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17)),
        secrets.token_urlsafe(30)[:40],
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(
            {"access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key}, file
        )
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    return key, True
