"""The command line (entry layer): ``s3d`` and ``python -m s3d``.

``commands`` parses arguments and runs a command; ``serve`` hands over to ``s3d.daemon``. The
other modules are the clients of a running daemon, over its admin endpoint:
``admin_client`` (signed requests), ``journal_client`` and ``flush_progress`` (``s3d flush``,
``s3d journal``), ``drs_client`` (``s3d drs``) and ``status_text`` (what ``s3d status`` prints).
"""

from s3d.cli.commands import main

__all__ = ["main"]
