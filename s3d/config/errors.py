"""The one configuration error: a bad file, environment variable or flag."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration that cannot be used.

    The message names the offending key and where it came from (the file and its TOML key,
    the environment variable, or the flag), and never contains a secret value.
    """
