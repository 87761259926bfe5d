"""The HTTP layer's own bounds: uvicorn's httptools protocol, with limits it does not have.

uvicorn (with httptools) buffers a request head for as long as the client keeps
sending it, and keeps a connection that never sends anything open forever: a
client that never ends its headers grew a server from 46 MB to 641 MB, and 300
silent connections stayed open. :class:`BoundedHttpToolsProtocol` adds, per connection:

* a bound on the request head (request line and headers): past it, ``431`` and the
  connection is closed, before the parser holds more. The bound is twice
  ``--max-header-bytes`` plus 8 KiB, so an ordinary oversized head still reaches the
  app, which answers in the vendor's own error shape;
* a deadline for the head (``--header-timeout``) from the moment the connection opens
  or the previous answer ends (a silent or dripping client is closed), and one for
  the body (``--body-timeout``) once the head is in (a stalled upload is closed).

The limits are class attributes, set by :func:`configure` in each worker before it serves.
"""

from __future__ import annotations

import asyncio
import weakref

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["BoundedHttpToolsProtocol", "configure"]

_END_OF_HEAD = b"\r\n\r\n"


def configure(*, max_header_bytes: int, header_timeout_s: float, body_timeout_s: float) -> None:
    BoundedHttpToolsProtocol.max_head_bytes = 2 * max_header_bytes + 8192
    BoundedHttpToolsProtocol.header_timeout_s = header_timeout_s
    BoundedHttpToolsProtocol.body_timeout_s = body_timeout_s


_HEAD, _BODY, _ANSWERING = 0, 1, 2  # what a connection is waiting for
_SWEEP_S = 0.5  # how often each event loop looks for connections past their deadline


class _Sweeper:
    """One per event loop: closes the connections that overran their deadline. A timer per
    request would cost every request two heap operations; a look twice a second costs none."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.connections: weakref.WeakSet[BoundedHttpToolsProtocol] = weakref.WeakSet()
        self.handle: asyncio.TimerHandle | None = None

    def watch(self, connection: BoundedHttpToolsProtocol) -> None:
        self.connections.add(connection)
        if self.handle is None:
            self.handle = self.loop.call_later(_SWEEP_S, self.sweep)

    def sweep(self) -> None:
        self.handle = None
        now = self.loop.time()
        for connection in list(self.connections):
            connection.check(now)
        if self.connections:
            self.handle = self.loop.call_later(_SWEEP_S, self.sweep)


_SWEEPERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Sweeper] = weakref.WeakKeyDictionary()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = 2 * 16 * 1024 + 8192
    header_timeout_s = 10.0
    body_timeout_s = 60.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._tail = b""  # the last bytes of the head so far, to find its end across chunks
        self._waiting, self._since = _HEAD, self.loop.time()
        sweeper = _SWEEPERS.get(self.loop)
        if sweeper is None:
            sweeper = _SWEEPERS[self.loop] = _Sweeper(self.loop)
        sweeper.watch(self)

    def check(self, now: float) -> None:
        """Close the connection if what it waits for is overdue (no answer: nobody is reading one)."""
        if self._waiting == _ANSWERING or self.transport.is_closing():
            return
        limit = self.header_timeout_s if self._waiting == _HEAD else self.body_timeout_s
        if now - self._since > limit:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._waiting == _HEAD:
            window = self._tail + data
            end = window.find(_END_OF_HEAD)
            self._head_bytes += len(data) if end < 0 else max(0, end + len(_END_OF_HEAD) - len(self._tail))
            if self._head_bytes > self.max_head_bytes:
                self._refuse()
                return
            if end < 0:
                self._tail = window[-(len(_END_OF_HEAD) - 1) :]
            else:
                self._tail = b""
                self._waiting, self._since = _BODY, self.loop.time()
        super().data_received(data)

    def _refuse(self) -> None:
        message = b"Request header fields too large"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(message)).encode() + b"\r\nconnection: close\r\n\r\n" + message
        )
        self.transport.close()

    def on_message_complete(self) -> None:
        self._waiting = _ANSWERING  # the request is in; the app takes as long as it takes
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request's head starts now (uvicorn's keep-alive timeout also closes an idle one).
        self._head_bytes, self._tail = 0, b""
        self._waiting, self._since = _HEAD, self.loop.time()
