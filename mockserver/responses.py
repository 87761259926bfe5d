"""The one way the mock builds a response: pre-encoded JSON, media with ``Range``, or a fault's bad send.

Starlette's ``Response`` assembles headers on every instance; answers on the hot
path are built here from bytes already encoded, with the headers they need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.faults import Decision

__all__ = ["FaultyResponse", "JSONBytes", "empty", "media"]


class JSONBytes(Response):
    """A JSON body already encoded: Starlette's Response without the header assembly."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
        if headers:
            self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    @classmethod
    def of(cls, body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> JSONBytes:
        return cls(orjson.dumps(body), status_code, headers)


def empty(status_code: int, headers: Mapping[str, str] | None = None) -> Response:
    """An answer without a body (204, 302...)."""
    return Response(status_code=status_code, headers=dict(headers or {}))


def media(data: bytes, content_type: str, span: tuple[int, int] | None, headers: dict[str, str]) -> Response:
    """Bytes of a result, whole or the inclusive byte ``span`` a Range asked for (206)."""
    headers = {"accept-ranges": "bytes", **headers}
    if span is None:
        return Response(data, media_type=content_type, headers=headers)
    start, end = span
    headers["content-range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(data[start : end + 1], status_code=206, media_type=content_type, headers=headers)


class FaultyResponse(Response):
    """A response sent badly on purpose: cut off, dropped after the headers, or slowly."""

    def __init__(self, inner: Response, fault: Decision) -> None:
        self.inner = inner
        self.fault = fault
        self.status_code = inner.status_code
        self.body = inner.body
        self.raw_headers = inner.raw_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body, fault = bytes(self.body), self.fault
        if fault.drop:
            return  # headers promised a body that never comes: the server closes the connection
        if fault.keep is not None:
            await send({"type": "http.response.body", "body": body[: int(len(body) * fault.keep)], "more_body": True})
            return
        rate = fault.bytes_per_s or len(body) or 1
        chunk = max(1, min(16384, rate // 10))
        for start in range(0, len(body), chunk):
            piece = body[start : start + chunk]
            await asyncio.sleep(len(piece) / rate)  # before sending, so N bytes take N / rate seconds
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    def wrap(response: Response, fault: Decision) -> Response:
        """``response`` as the fault sends it, or unchanged without a transport fault."""
        if fault.drop or fault.keep is not None or fault.bytes_per_s:
            return FaultyResponse(response, fault)
        return response
