"""A local HTTP endpoint for the end-to-end tests: it records every webhook or callback POST.

Use it as a context manager. ``url(tail)`` is an address on it to give the mock; each POST
is answered 200 and kept as a :class:`Delivery` (path, lower-case headers, raw body), in
the order it arrived. The mock's deliverer runs beside it, so tests wait with
:meth:`Receiver.wait_until` instead of reading at once.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Delivery", "Receiver"]


@dataclass(frozen=True, slots=True)
class Delivery:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (anything else fails the test)."""
        parsed = json.loads(self.body)
        assert isinstance(parsed, dict), f"not a JSON object: {self.body!r}"
        return parsed


class Receiver:
    """Listens on a free port of 127.0.0.1 while entered; thread-safe."""

    def __init__(self) -> None:
        self._received: list[Delivery] = []
        self._arrived = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                delivery = Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with outer._arrived:
                    outer._received.append(delivery)
                    outer._arrived.notify_all()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="e2e-receiver", daemon=True)

    def url(self, tail: str = "") -> str:
        """``http://127.0.0.1:PORT/`` followed by ``tail`` (a path without its leading slash)."""
        return f"http://127.0.0.1:{self.port}/{tail}"

    @property
    def received(self) -> list[Delivery]:
        """Every delivery so far, oldest first (a copy)."""
        with self._arrived:
            return list(self._received)

    def about(self, value: str, key: str = "id") -> list[Delivery]:
        """The deliveries whose JSON body has ``value`` at ``key``, oldest first."""
        return [d for d in self.received if d.json().get(key) == value]

    def wait_until(self, holds: Callable[[list[Delivery]], bool], about: str | None = None, timeout: float = 10.0) -> list[Delivery]:
        """The deliveries (only those :meth:`about` ``about``, if given) once ``holds`` is true of them;
        an ``AssertionError`` showing them when it is still false after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                seen = self.received if about is None else self.about(about)
                if holds(seen):
                    return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"still not so after {timeout} s: {seen}")
                self._arrived.wait(left)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
