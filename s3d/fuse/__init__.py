"""The FUSE adapter: a bucket (or a prefix of it) as a POSIX file system, served by pyfuse3 in
the daemon's process and asyncio loop, every operation through the gateway (docs/fuse.md).

``mount`` owns the session; ``filesystem`` the pyfuse3 operations; ``tree`` names and their
changes; ``listing`` directory reads; ``handles`` open files; ``scratch`` files being written;
``objects`` the S3 operations made through the gateway; ``nodes`` the inode table; ``names``
which keys can be file names; ``errors`` the errno edge. Only this package imports pyfuse3.
"""
