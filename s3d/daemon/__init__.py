"""The daemon (entry layer): the composition root and its start-up helpers.

``root`` builds the components from the settings, serves and stops them in order; beside it,
``startup`` (checks of the remote before serving), ``drs_start`` (the catalogue's seeding and
transfers), ``local_keys`` (the generated access key) and ``logs`` (log format).
"""

from s3d.daemon.root import Daemon, banner, serve, status_provider

__all__ = ["Daemon", "banner", "serve", "status_provider"]
