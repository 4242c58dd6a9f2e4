"""Configuration: a TOML file, ``S3D_*`` environment variables and flags, into ``Settings``.

The surface is generated from the ``Settings`` dataclasses and their field metadata
(``s3d/settings.py``): a new field needs no code here. ``load_settings`` reads and validates,
``render_settings`` shows the result with secrets masked.
"""

from s3d.config.errors import ConfigError
from s3d.config.load import load_settings
from s3d.config.options import Option, options
from s3d.config.render import render_settings

__all__ = ["ConfigError", "Option", "load_settings", "options", "render_settings"]
