"""The one configuration error: a bad file, environment variable or flag.

It lives in ``s3d.settings`` (low enough for adapters to raise it); re-exported here.
"""

from s3d.settings import ConfigError

__all__ = ["ConfigError"]
