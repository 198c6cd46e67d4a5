"""A loopback webhook receiver for the tests: an HTTP server on a thread
that records every request and answers 500 to the first `fail_first`
(or to all of them with `always_fail`), 204 afterwards."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Optional


@dataclass(frozen=True)
class Request:
    headers: dict[str, str]
    body: bytes
    answered: int


class Receiver:
    def __init__(self, fail_first: int = 0, always_fail: bool = False) -> None:
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._fail_first = fail_first
        self._always_fail = always_fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._record(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: pytest shows failures, not traffic

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            failing = self._always_fail or len(self.requests) < self._fail_first
            status = 500 if failing else 204
            self.requests.append(Request(headers, body, status))
            return status

    @property
    def delivered(self) -> list[Request]:
        """The requests answered 2xx."""
        with self._lock:
            return [r for r in self.requests if r.answered < 300]

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
