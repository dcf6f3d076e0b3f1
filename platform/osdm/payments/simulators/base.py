"""The common machinery of the gateway simulators: a threaded HTTP server on 127.0.0.1 with a route
table, thread-safe in-memory state, fault injection, and callbacks to the platform.

A simulator subclass declares `routes` (method, regex over the path → handler name) and keeps its
payments in `self.payments`. Tests drive the awkward cases through the Python API:

    sim.fail_next("timeout" | "500" | "drop", times=1)   # the next API calls misbehave
    sim.callbacks                                         # every callback it sent (url, headers, body)
    sim.deliver_callbacks = False                         # queue callbacks instead of POSTing them
    sim.pending_callbacks()                               # take the queued ones (to replay, reorder, repeat)
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON; str → text/html; bytes → raw
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Callback:
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # what the platform answered, when delivered


def loopback(url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """`*.localhost` names are loopback (RFC 6761) but Python's resolver does not know them: connect
    to 127.0.0.1 and keep the name in the Host header, as a browser would."""
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.endswith(".localhost"):
        netloc = f"127.0.0.1:{parts.port}" if parts.port else "127.0.0.1"
        return parts._replace(netloc=netloc).geturl(), {**headers, "host": parts.netloc}
    return url, headers


class Simulator:
    slug = "simulator"
    routes: list[tuple[str, str, str]] = []  # (method, path regex, handler method name)

    def __init__(self, *, port: int = 0, public_url: str | None = None) -> None:
        self.lock = threading.RLock()
        self.payments: dict[str, dict] = {}
        self.faults: deque[str] = deque()
        self.callbacks: list[Callback] = []
        self.queued: list[Callback] = []
        self.deliver_callbacks = True
        self.callback_delay = 0.0
        self.requests: list[Request] = []
        self._compiled = [(m, re.compile(f"^{p}$"), h) for m, p, h in self.routes]
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False  # stop() must not wait for a request hanging on a "timeout" fault
        self.port = self._server.server_address[1]
        self.url = public_url or f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"sim-{self.slug}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # test controls
    def fail_next(self, mode: str, times: int = 1) -> None:
        """Make the next API calls misbehave: "timeout" (hang past any client timeout), "500", "drop"
        (close the connection without answering), or "slow:<seconds>" (answer, late)."""
        with self.lock:
            self.faults.extend([mode] * times)

    def pending_callbacks(self) -> list[Callback]:
        with self.lock:
            taken, self.queued = self.queued, []
            return taken

    def reset(self) -> None:
        with self.lock:
            self.payments.clear()
            self.faults.clear()
            self.callbacks.clear()
            self.queued.clear()
            self.requests.clear()
            self.deliver_callbacks = True

    @staticmethod
    def new_id(prefix: str = "") -> str:
        return prefix + uuid.uuid4().hex

    # callbacks
    def send_callback(self, url: str, body: bytes, headers: dict[str, str]) -> Callback:
        callback = Callback(url, headers, body)
        with self.lock:
            self.callbacks.append(callback)
            if not self.deliver_callbacks:
                self.queued.append(callback)
                return callback
        threading.Thread(target=self._post, args=(callback,), daemon=True).start()
        return callback

    def _post(self, callback: Callback) -> None:
        if self.callback_delay:
            time.sleep(self.callback_delay)
        url, headers = loopback(callback.url, callback.headers)
        for attempt in range(3):  # gateways retry their callbacks; so do we, a little
            try:
                response = httpx.post(url, content=callback.body, headers=headers, timeout=10)
                callback.status = response.status_code
                if response.status_code < 500:
                    return
            except httpx.HTTPError:
                callback.status = None
            time.sleep(0.2 * (attempt + 1))

    # HTTP plumbing
    def _dispatch(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            fault = self.faults.popleft() if self.faults else None
        if fault == "timeout":
            time.sleep(60)
            return Response(504, {"message": "simulated timeout"})
        if fault == "500":
            return Response(500, {"message": "simulated failure"})
        if fault == "drop":
            raise ConnectionAbortedError
        if fault and fault.startswith("slow:"):
            time.sleep(float(fault.split(":", 1)[1]))  # then answer normally
        for method, pattern, handler in self._compiled:
            match = pattern.match(request.path)
            if method == request.method and match:
                return getattr(self, handler)(request, **match.groupdict())
        return Response(404, {"message": f"{request.method} {request.path} not found"})

    def _handler_class(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                try:
                    response = simulator._dispatch(request)
                except ConnectionAbortedError:
                    self.close_connection = True
                    return
                if isinstance(response.body, dict | list):
                    payload, content_type = json.dumps(response.body).encode(), "application/json"
                elif isinstance(response.body, str):
                    payload, content_type = response.body.encode(), "text/html; charset=utf-8"
                else:
                    payload, content_type = response.body or b"", "application/octet-stream"
                self.send_response(response.status)
                headers = {"content-type": content_type, **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        return Handler
