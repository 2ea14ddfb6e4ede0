"""A push receiver of ours, as an upper platform would run one: a threaded ``http.server`` on 127.0.0.1.

It keeps every request it got (``requests``) and applies each event once (``applied``, deduped by event id,
as README asks receivers to), after checking the signature with the subscription's secret (``secret``).
Tests steer how it answers with ``mode``:

- ``ok``: apply, answer 204;
- ``fail``: answer 500 without applying;
- ``hang``: apply, then answer only after the sender gave up (its timeout) — the receiver processed the
  event, the sender saw a timeout and sends it again under the same id;
- ``hold``: apply, say so (``arrived``), and answer 204 once the test opens ``gate``: a send in flight.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """README's check: HMAC-SHA256 of "{timestamp}.{body}" under the secret, compared in constant time."""
    timestamp = headers["X-Sanxiang-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + expected, headers["X-Sanxiang-Signature"])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str | None = None
    mode: str = "ok"
    requests: list[Received] = field(default_factory=list)
    applied: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver._receive(self, Received(self.path, dict(self.headers.items()), body))

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hook"

    def stop(self) -> None:
        self._release.set()
        self.gate.set()
        self._server.shutdown()
        self._server.server_close()

    def _receive(self, handler: BaseHTTPRequestHandler, received: Received) -> None:
        with self._lock:
            self.requests.append(received)
            mode = self.mode
            if mode != "fail":
                self._apply(received)
        if mode == "fail":
            handler.send_response(500)
        elif mode == "hang":
            self._release.wait(30)  # past the sender's timeout; released when the receiver stops
            return
        elif mode == "hold":
            self.arrived.set()
            self.gate.wait(30)
            handler.send_response(204)
        else:
            handler.send_response(204)
        handler.end_headers()

    def _apply(self, received: Received) -> None:
        if self.secret is None or not verify(self.secret, received.headers, received.body):
            self.bad_signatures += 1
            return
        event = received.event
        if all(seen["id"] != event["id"] for seen in self.applied):
            self.applied.append(event)
