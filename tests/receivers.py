"""A real HTTP receiver on 127.0.0.1 for webhook tests: records every request, answers a chosen status."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    """``start()`` listens on ``port`` (chosen free when not given); ``stop()`` closes it; ``received`` holds
    ``(path, headers, body)`` of every request; ``status`` and ``answer`` are what it replies."""

    def __init__(self, port: int | None = None, *, status: int = 200, answer: bytes = b"ok") -> None:
        self.port = port or free_port()
        self.status, self.answer = status, answer
        self.headers: dict[str, str] = {}  # sent with every answer (a redirect's Location)
        self.received: list[tuple[str, dict, bytes]] = []
        self.last_at = 0.0  # time.perf_counter() of the last request
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append((self.path, dict(self.headers), body))
                    receiver.last_at = time.perf_counter()
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.answer)))
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        with self._lock:
            self.received, self.last_at = [], 0.0

    def event_ids(self) -> list[int]:
        """The ``id`` of each JSON body received, in order."""
        return [json.loads(body)["id"] for _path, _headers, body in self.received]

    def wait_for(self, count: int, timeout: float) -> list[tuple[str, dict, bytes]]:
        """The requests once at least ``count`` came (or whatever came within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.received) < count:
            time.sleep(0.05)
        return list(self.received)
