"""The MD5 and SHA-256 of a file being written, kept up to date while it is written from its
start in order (``cp``, ``dd``, an application writing a new file): its upload then needs no
second read of the bytes to hash them. Any other write (a seek back, a gap, a truncate, bytes
copied in without being seen) gives them up, and the upload hashes the file as it copies it.

Writes run in worker threads, possibly several at once: the lock keeps each update whole.
"""

from __future__ import annotations

import hashlib
import threading


class RunningDigests:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """An empty file: hashing starts again from its first byte."""
        self._md5 = hashlib.md5()
        self._sha256 = hashlib.sha256()
        self._upto = 0
        self._valid = True

    def give_up(self) -> None:
        with self._lock:
            self._valid = False

    def wrote(self, offset: int, data: bytes) -> None:
        """``data`` was written at ``offset`` (called from the writing thread)."""
        with self._lock:
            if self._valid and offset == self._upto:
                self._md5.update(data)
                self._sha256.update(data)
                self._upto += len(data)
            elif data:
                self._valid = False

    def of(self, size: int) -> tuple[bytes, bytes] | None:
        """(MD5, SHA-256) of a file of ``size`` bytes, when every byte was seen in order."""
        with self._lock:
            if not self._valid or self._upto != size:
                return None
            return self._md5.copy().digest(), self._sha256.copy().digest()
