"""Benchmarks of s3d, run with ``make bench``; see docs/benchmarks.md.

Not part of the installed package: the harness starts s3d and its competitors as processes and
talks to them over loopback, as applications do.
"""
