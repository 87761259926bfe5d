"""A webhook receiver the kit runs beside a run (``--webhook-listen HOST:PORT``).

It accepts every POST, answers 200, and keeps what came (path, headers, the raw
body, the kit's clock) for the webhook checks to judge once the jobs are done.
"""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = ["Delivery", "Receiver"]

MAX_BODY = 1024 * 1024  # a delivery larger than this is kept cut, and judged as such


@dataclass(frozen=True, slots=True)
class Delivery:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.time() when it arrived
    truncated: bool = False


@dataclass
class Receiver:
    """Listens on ``host:port`` (port 0: any free one) until closed."""

    host: str
    port: int
    received: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(min(size, MAX_BODY)) if size > 0 else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.received.append(Delivery(self.path, headers, body, time.time(), size > MAX_BODY))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="conformance-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
