"""Prometheus metrics: the one place ``prometheus_client`` is imported (an adapter).

Theory of operation. Two kinds of numbers, gathered two ways:

- *Traffic* (``traffic.py``): what happens per request and per remote call — counts, a latency
  histogram, bytes. Recorded as it happens by observers the server and the remote adapter are
  given as plain callables (they never import this package), at the point each already
  measures: the access-log line, and ``Calls``, the one place remote calls run.
- *State* (``state.py``): what the services already count or know — the read cache's
  ``CacheStats``, the journal's ``status()``, the catalogue's ``status()``, the remote
  credentials' expiry. Read at scrape time, so the hot path does nothing more for them.

Labels are bounded: S3 action names (a fixed table), status classes, s3d's own error codes,
cache results. Never a bucket, a key, a principal or a remote's free-form text.

A later FUSE adapter gets an observer of its own here (``s3d_fuse_operations_total`` by
operation and outcome, a latency histogram), given to it as the server's is; nothing is
exported for it until it exists.
"""
