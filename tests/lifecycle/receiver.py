"""A webhook receiver on a real port, as an ATS integration would write one.

It verifies every request with the ``standardwebhooks`` package (signature and timestamp),
deduplicates by ``webhook-id`` (the spec's idempotency key) and can be told to be down
(nothing listens), to fail (500) or to be slow (answers after the sender's timeout).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.server.harness import free_port


class Receiver:
    """Events received, by webhook id (first copy kept), and every attempt counted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/clarify"
        self.secret: str | None = None
        self.mode = "ok"  # ok | error | slow
        self.slow_s = 2.0
        self.events: dict[str, dict[str, Any]] = {}  # webhook-id -> payload (deduplicated)
        self.attempts: Counter[str] = Counter()  # webhook-id -> requests seen
        self.rejected: list[str] = []  # why a request failed verification
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver._handle(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: nothing listens on the port any more."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            assert self.secret is not None
            payload = Webhook(self.secret).verify(body, dict(handler.headers.items()))
        except (WebhookVerificationError, AssertionError) as exc:
            with self._lock:
                self.rejected.append(str(exc))
            self._answer(handler, 400)
            return
        webhook_id = handler.headers["webhook-id"]
        with self._lock:
            self.attempts[webhook_id] += 1
            mode = self.mode
        if mode == "error":
            self._answer(handler, 500)
            return
        with self._lock:
            self.events.setdefault(webhook_id, payload)  # a repeat is acknowledged, not re-processed
        if mode == "slow":
            time.sleep(self.slow_s)
        self._answer(handler, 204)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, code: int) -> None:
        try:
            handler.send_response(code)
            handler.send_header("content-length", "0")
            handler.end_headers()
        except OSError:
            pass  # the sender gave up (timeout) before the answer

    def of_type(self, event_type: str, session_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            payloads = list(self.events.values())
        return [p for p in payloads if p["type"] == event_type and (session_id is None or _session_of(p) == session_id)]

    def wait_for(self, event_type: str, session_id: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of_type(event_type, session_id)
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} for {session_id} within {timeout}s; got {self.summary()}")

    def summary(self) -> str:
        with self._lock:
            return json.dumps([(p["type"], _session_of(p)) for p in self.events.values()])


def _session_of(payload: dict[str, Any]) -> str:
    return str(payload.get("data", {}).get("session", {}).get("id", ""))
