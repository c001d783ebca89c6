"""The HTTP servers swarmscope runs (the OTLP receiver, /metrics): bounded, whoever connects.

Python's threading server starts a thread for every connection it accepts, without limit, and
its handlers wait for a request line for ever: a client that opens many connections, or one that
sends nothing, would hold threads and memory without end. Here at most MAX_CONNECTIONS are served
at once (more wait in the kernel's listen queue) and a connection idle for READ_TIMEOUT_S is
closed.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_CONNECTIONS = 64
"""Requests served at once; more wait in the listen queue."""
READ_TIMEOUT_S = 10.0
"""A connection that sends nothing this long is closed (a slow client holds no thread for ever)."""


class BoundedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, the idle timeout, and no line on stderr per request (counters say
    what came)."""

    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_S

    def answer(self, status: int, body: bytes, kind: str, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""
