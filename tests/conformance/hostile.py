"""Hostile vendors on a real socket: the mock behind a proxy that turns nasty after a few requests.

What no in-process transport can show needs real connections: an answer that drips
one byte at a time, a server that accepts and never answers, a result URL that
streams gigabytes, ``Retry-After`` on every answer. :class:`HostileProxy` forwards
the first ``honest`` requests to a real mock and then behaves as its ``mode`` says.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any

import httpx

from mockserver.testing import free_port

__all__ = ["GIB", "HostileProxy"]

GIB = 1024**3
_CHUNK = b"\0" * (1024 * 1024)


class HostileProxy:
    """Modes: ``drip`` (headers, then one byte every half second), ``silent`` (never answers),
    ``retry_after`` (every answer a 429 with Retry-After: 3), ``huge`` (result URLs stream 2 GiB)."""

    def __init__(self, upstream: str, mode: str, honest: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.honest = honest
        self.port = free_port()
        self.seen = 0
        self.streamed = 0  # bytes of the huge result sent before the client hung up
        self.lock = threading.Lock()
        self.stop = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                outer.handle(self)

            do_POST = do_GET
            do_DELETE = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # a client hanging up is the point
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        if h.path.endswith("/huge.mp4"):
            return self._huge(h)
        with self.lock:
            self.seen += 1
            honest = self.seen <= self.honest
        if honest or self.mode == "huge":
            return self._forward(h, body)
        if self.mode == "drip":
            return self._drip(h)
        if self.mode == "silent":
            self.stop.wait(600)  # holds the connection, says nothing
            return None
        if self.mode == "retry_after":
            return self._send(h, 429, {"content-type": "application/json", "retry-after": "3"}, b'{"error": "slow down"}')
        raise AssertionError(self.mode)

    def _forward(self, h: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        r = httpx.request(h.command, f"{self.upstream}{h.path}", headers=headers, content=body, timeout=30)
        content = r.content
        if self.mode == "huge" and r.headers.get("content-type", "").startswith("application/json"):
            document = r.json()
            if isinstance(document, dict) and isinstance(document.get("url"), str):
                document["url"] = f"{self.url}/huge.mp4"
                content = json.dumps(document).encode()
        hop = ("content-length", "transfer-encoding", "connection", "content-encoding")
        out = {k: v for k, v in r.headers.items() if k.lower() not in hop}
        self._send(h, r.status_code, out, content)

    def _send(self, h: http.server.BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("content-length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _drip(self, h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", "100000")
        h.end_headers()
        try:
            while not self.stop.is_set():
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.5)
        except OSError:
            return

    def _huge(self, h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("content-type", "video/mp4")
        h.send_header("content-length", str(2 * GIB))
        h.end_headers()
        try:
            for _ in range(2 * GIB // len(_CHUNK)):
                h.wfile.write(_CHUNK)
                self.streamed += len(_CHUNK)
        except OSError:
            return
