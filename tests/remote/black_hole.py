"""A remote that accepts connections and never answers: a "black hole" on loopback.

The kernel completes the handshake, a thread accepts each connection and keeps it open
without answering; with ``answer`` it first waits for the request's headers and writes those
bytes (status line and headers, perhaps part of a body), then says nothing more. Counts the
connections accepted, which is how a test sees how many attempts a call made.
"""

from __future__ import annotations

import socket
import threading
from typing import Self


class BlackHole:
    def __init__(self, answer: bytes = b"") -> None:
        self.answer = answer
        self.accepted = 0
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="black-hole", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the listener and every connection held. Idempotent."""
        self._closed.set()
        self._thread.join(10)
        self._listener.close()
        for conn in self._held:
            conn.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._held.append(conn)
            if self.answer:
                threading.Thread(target=self._half_answer, args=(conn,), daemon=True).start()

    def _half_answer(self, conn: socket.socket) -> None:
        received = b""
        conn.settimeout(10)
        try:
            while b"\r\n\r\n" not in received:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                received += chunk
            conn.sendall(self.answer)
        except OSError:
            return


def stalled_get(length: int, sent: bytes) -> bytes:
    """An object GET's answer that stops after ``sent`` of its ``length`` body bytes."""
    head = (
        "HTTP/1.1 200 OK\r\n"
        f"Content-Length: {length}\r\n"
        'ETag: "0123456789abcdef0123456789abcdef"\r\n'
        "Last-Modified: Thu, 03 Dec 2026 10:00:00 GMT\r\n"
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
    )
    return head.encode() + sent
