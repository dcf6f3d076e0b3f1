"""A real HTTP server that receives webhooks in tests, on 127.0.0.1.

Each path is its own mailbox: `receiver.path()` gives a fresh one. Responses are scripted per path
(`script(path, [(status, headers, delay_seconds), ...])`, default 200); every request is recorded with
its headers and raw body, and `wait(path, count)` blocks until that many have arrived;
`most_in_flight(path)` says how many were being answered at once at most.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


class Receiver:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._scripts: dict[str, list[tuple[int, dict[str, str], float]]] = {}
        self.requests: dict[str, list[Received]] = {}
        self._in_flight: dict[str, int] = {}
        self._most_in_flight: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                item = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver._lock:
                    receiver.requests.setdefault(self.path, []).append(item)
                    now = receiver._in_flight[self.path] = receiver._in_flight.get(self.path, 0) + 1
                    receiver._most_in_flight[self.path] = max(now, receiver._most_in_flight.get(self.path, 0))
                    script = receiver._scripts.get(self.path) or []
                    status, headers, delay = script.pop(0) if script else (200, {}, 0.0)
                    receiver._lock.notify_all()
                if delay:
                    time.sleep(delay)
                payload = b'{"ok": true}' if 200 <= status < 300 else b'{"ok": false}'
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with receiver._lock:
                        receiver._in_flight[self.path] -= 1

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a worker sends batches concurrently: room for their connections

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def path(self) -> str:
        return f"/hooks/{uuid.uuid4().hex}"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def script(self, path: str, responses: list[tuple[int, dict[str, str], float]]) -> None:
        with self._lock:
            self._scripts[path] = list(responses)

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return list(self.requests.get(path, []))

    def most_in_flight(self, path: str) -> int:
        """The most requests to `path` that were being answered at the same time."""
        with self._lock:
            return self._most_in_flight.get(path, 0)

    def wait(self, path: str, count: int = 1, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests.get(path, [])) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{path}: {len(self.requests.get(path, []))} of {count} requests arrived")
                self._lock.wait(remaining)
            return list(self.requests[path])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
