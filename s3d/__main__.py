"""``python -m s3d``: the same command line as the ``s3d`` console script."""

from s3d.cli import main

raise SystemExit(main())
