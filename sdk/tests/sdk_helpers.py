"""Real local HTTP servers for the retry tests, and small helpers shared by the SDK's tests.

- `ScriptedServer` answers each request with the next step of a script (a status, headers and body,
  a delay, or a dropped connection) and records what it received.
- `FlakyProxy` sits in front of the live platform: it misbehaves on the first requests as scripted
  (drops the connection before forwarding, answers 5xx itself, or forwards and then drops the answer)
  and forwards the rest unchanged, Host header included, recording every request.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

PASSWORD = "correct-horse-battery-staple"


def unique_email(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(interval)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass
class Step:
    """One scripted answer. `drop` closes the connection without answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def error(cls, status: int, code: str, headers: dict[str, str] | None = None, **extra: Any) -> Step:
        body = {"error": {"type": "api_error", "code": code, "message": f"scripted {code}", **extra}}
        return cls(status, {"X-Request-Id": f"req_{uuid.uuid4().hex}", **(headers or {})}, body)


def _read(handler: BaseHTTPRequestHandler) -> Seen:
    length = int(handler.headers.get("content-length") or 0)
    body = handler.rfile.read(length) if length else b""
    return Seen(handler.command, handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)


def _answer(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _drop(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True
    handler.wfile.flush()
    handler.connection.shutdown(2)


class _Server:
    def __init__(self, handle) -> None:
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                seen = _read(self)
                with server.lock:
                    server.requests.append(seen)
                try:
                    handle(self, seen)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        # A short poll: shutdown() waits for it, and every test starts and stops servers.
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ScriptedServer(_Server):
    """Answers with `script` in order, then with `then` (default: 200 and `{}`)."""

    def __init__(self, script: list[Step], then: Step | None = None) -> None:
        self.script = list(script)
        self.then = then or Step(200, {}, {})
        super().__init__(self._handle)

    def _handle(self, handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        with self.lock:
            step = self.script.pop(0) if self.script else self.then
        if step.delay:
            time.sleep(step.delay)
        if step.drop:
            _drop(handler)
            return
        body = step.body if isinstance(step.body, bytes) else json.dumps(step.body).encode()
        _answer(handler, step.status, {"Content-Type": "application/json", **step.headers}, body)


class FlakyProxy(_Server):
    """Forwards to `upstream` (an http://127.0.0.1:port origin), misbehaving first as `faults` say:
    `drop-before` (close, nothing forwarded), `drop-after` (forward, then close without answering),
    or a status code (answered here, nothing forwarded)."""

    def __init__(self, upstream: str, faults: list[str | int]) -> None:
        self.upstream = upstream
        self.faults = list(faults)
        self.forwarded: list[Seen] = []
        super().__init__(self._handle)

    def _handle(self, handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault == "drop-before":
            _drop(handler)
            return
        if isinstance(fault, int):
            body = json.dumps({"error": {"type": "api_error", "code": "proxy_error", "message": "flaky"}}).encode()
            _answer(handler, fault, {"Content-Type": "application/json", "Retry-After": "0"}, body)
            return
        headers = {k: v for k, v in seen.headers.items() if k not in ("content-length", "connection")}
        response = httpx.request(seen.method, self.upstream + seen.path, headers=headers, content=seen.body,
                                 timeout=30)
        with self.lock:
            self.forwarded.append(seen)
        if fault == "drop-after":
            _drop(handler)
            return
        _answer(handler, response.status_code, dict(response.headers), response.content)


def become_seller(client, name: str = "SDK Shop"):
    """Give a user-mode client a seller profile; returns the client."""
    client.me.seller_profile.upsert(display_name=name, country="SA")
    return client


def category_id(client, market: str, slug: str) -> int:
    """A default-taxonomy category's id (the operator loads the taxonomy first: `categories.load_default()`)."""
    return next(c.id for c in client.categories.list(market=market) if c.slug == slug)


def pay(buyer, payment_id: str, *, method: str = "mada", outcome: str = "paid"):
    """Pay through the sandbox gateway as a buyer would: process, press the checkout page's button
    (the simulator then calls the platform back, signed), wait for the payment to settle."""
    payment = buyer.payments.process(payment_id, method=method, return_url="https://shop.example.com/return")
    assert payment.status == "requires_action", payment
    httpx.post(payment.next_action["url"], data={"outcome": outcome}, timeout=10)
    final = "succeeded" if outcome == "paid" else "failed"
    return wait_for(lambda: (p := buyer.payments.retrieve(payment_id)).status == final and p, timeout=20)
