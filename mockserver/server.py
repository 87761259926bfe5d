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

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["BoundedHttpToolsProtocol", "configure"]

_END_OF_HEAD = b"\r\n\r\n"


def configure(*, max_header_bytes: int, header_timeout_s: float, body_timeout_s: float) -> None:
    BoundedHttpToolsProtocol.max_head_bytes = 2 * max_header_bytes + 8192
    BoundedHttpToolsProtocol.header_timeout_s = header_timeout_s
    BoundedHttpToolsProtocol.body_timeout_s = body_timeout_s


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = 2 * 16 * 1024 + 8192
    header_timeout_s = 10.0
    body_timeout_s = 60.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._tail = b""  # the last bytes of the head so far, to find its end across chunks
        self._reading_head = True
        self._deadline: asyncio.TimerHandle | None = None
        self._arm(self.header_timeout_s)

    def _arm(self, seconds: float) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()  # no answer: the client stopped sending, there is nobody to read one

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            window = self._tail + data
            end = window.find(_END_OF_HEAD)
            self._head_bytes += len(data) if end < 0 else max(0, end + len(_END_OF_HEAD) - len(self._tail))
            if self._head_bytes > self.max_head_bytes:
                self._refuse()
                return
            if end < 0:
                self._tail = window[-(len(_END_OF_HEAD) - 1) :]
            else:
                self._reading_head, self._tail = False, b""
                self._arm(self.body_timeout_s)
        super().data_received(data)

    def _refuse(self) -> None:
        self._disarm()
        message = b"Request header fields too large"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(message)).encode() + b"\r\nconnection: close\r\n\r\n" + message
        )
        self.transport.close()

    def on_message_complete(self) -> None:
        self._disarm()  # the request is in; the app takes as long as it takes to answer
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request's head starts now (uvicorn's keep-alive timeout also closes an idle one).
        self._reading_head, self._head_bytes, self._tail = True, 0, b""
        if not self.transport.is_closing():
            self._arm(self.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
