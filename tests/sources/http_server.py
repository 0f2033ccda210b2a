"""A real HTTP server on loopback for tests: serves calendars, receives pushes.

Each path answers with what the test last set for it (status, body, headers); GETs honour
``If-None-Match`` against the path's ETag, as a channel's server would, and every request
is recorded with its headers and body. It runs in a thread of the test process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    delay: float = 0.0
    # Requests that must all be in flight before any is answered (a timed-out wait drops the
    # connection unanswered): proof of side-by-side work that no busy machine can fake.
    together: threading.Barrier | None = None


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LocalServer:
    """Start with ``with LocalServer() as server:``; ``server.url(path)`` is its address."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def set(self, path: str, body: bytes = b"", status: int = 200, **options) -> None:
        with self._lock:
            self.answers[path] = Answer(status=status, body=body, **options)

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [request for request in self.received if request.path == path]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length))

            def _answer(self, body: bytes) -> None:
                headers = {name.lower(): value for name, value in self.headers.items()}
                with server._lock:
                    server.received.append(Received(self.command, self.path, headers, body))
                    answer = server.answers.get(self.path, Answer(status=404))
                if answer.together is not None:
                    try:
                        answer.together.wait()
                    except threading.BrokenBarrierError:
                        return  # closed unanswered: the client sees a dropped connection
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.etag and headers.get("if-none-match") == answer.etag:
                    self.send_response(304)
                    self.send_header("ETag", answer.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.etag:
                    self.send_header("ETag", answer.etag)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

        return Handler
