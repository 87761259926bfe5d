"""The kit's HTTP client: rate-limited, courteous under 429, bounded, and recording every exchange.

It wraps ``httpx.Client`` and accepts any ``httpx.BaseTransport``, so the kit runs
against a real base URL or in-process against an ASGI app. Paths are sent as
given: a handle with slashes stays literal, never percent-encoded.

Whatever a target does, one request costs at most ``request_timeout`` seconds of wall
time (a watchdog closes the connection of an answer that drips or stalls) and
``max_bytes`` of disk: an answer is streamed, kept in memory up to
:data:`KEEP_IN_MEMORY`, spooled to a temporary file beyond, and cut off past
``max_bytes`` (``--max-download-bytes``).
"""

from __future__ import annotations

import email.utils
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from conformance.clock import Clock
from conformance.exchange import Exchange, Redactor, SentRequest
from videogen.dialect import Operation
from videogen.pointer import MISSING

__all__ = ["Client", "Throttle", "encode_json", "parse_retry_after"]

Listener = Callable[[Exchange], None]
MAX_REDIRECTS = 5
KEEP_IN_MEMORY = 8 * 1024 * 1024  # an answer larger than this is spooled to disk; a JSON answer never is
EXCERPT_BYTES = 64 * 1024  # what an exchange keeps in memory of an answer spooled to disk


@dataclass(frozen=True, slots=True)
class Throttle:
    """A 429 the kit received: what Retry-After said, how long the kit waited, whether it gave up."""

    exchange: Exchange
    retry_after: float | None
    waited: float
    gave_up: bool


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_epoch)


class Client:
    """Sends requests to one dialect's base URL; every exchange goes to the listeners."""

    def __init__(
        self,
        base_url: str,
        *,
        clock: Clock,
        redactor: Redactor,
        rate_limit: float = 0.0,
        transport: httpx.BaseTransport | None = None,
        request_timeout: float = 60.0,
        max_retries: int = 3,
        max_wait: float = 120.0,
        epoch: Callable[[], float] | None = None,
        max_bytes: int = 256 * 1024 * 1024,
        spool_dir: Path | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.redactor = redactor
        self.gap = 1.0 / rate_limit if rate_limit > 0 else 0.0
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.listeners: list[Listener] = []
        self.throttles: list[Throttle] = []
        self.sent = 0
        self._next_slot = 0.0
        self.epoch = epoch or _wall_time
        self.request_timeout = request_timeout
        self.max_bytes = max_bytes
        self.spool_dir = spool_dir
        self._transport = transport
        self._http = self._new_http()
        self._aborted = False

    def _new_http(self) -> httpx.Client:
        return httpx.Client(transport=self._transport, timeout=self.request_timeout, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def _abort(self) -> None:
        """The watchdog: an answer overran its deadline; closing the pool ends the blocked read."""
        self._aborted = True
        self._http.close()

    def url(self, target: str) -> str:
        return target if target.startswith(("http://", "https://")) else f"{self.base_url}{target}"

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` has the base URL's scheme, host and port (whose answers a report may quote)."""
        return urlsplit(url)[:2] == urlsplit(self.base_url)[:2]

    def is_ours(self, url: str) -> bool:
        """Whether ``url`` is under the base URL (so the API key may be sent there)."""
        return url == self.base_url or url.startswith(self.base_url + "/")

    def send(
        self,
        method: str,
        target: str,
        *,
        headers: Mapping[str, str] | None = None,
        json_body: Any = MISSING,
        content: bytes | None = None,
        operation: Operation | None = None,
        follow_redirects: bool = False,
    ) -> Exchange:
        """Send one request; 429s are retried after Retry-After (bounded), redirects followed on request."""
        chosen = dict(headers or {})
        if json_body is not MISSING:
            content = encode_json(json_body)
            chosen.setdefault("content-type", "application/json")
        request = SentRequest(method.upper(), self.url(target), tuple(chosen.items()), content)
        for hop in range(MAX_REDIRECTS + 1):
            exchange = self._send_courteously(request, operation)
            location = exchange.headers.get("location")
            if not follow_redirects or exchange.status not in (301, 302, 303, 307, 308) or not location or hop == MAX_REDIRECTS:
                return exchange
            request = self._redirect(request, location)
            operation = None
        return exchange  # pragma: no cover - the loop always returns

    def _redirect(self, request: SentRequest, location: str) -> SentRequest:
        url = str(httpx.URL(request.url).join(location))
        headers = request.headers
        if urlsplit(url)[:2] != urlsplit(request.url)[:2]:  # another origin: never forward a key
            headers = tuple((k, v) for k, v in headers if not self.redactor.carries_secret(k, v))
        return SentRequest("GET", url, headers, None)

    def _send_courteously(self, request: SentRequest, operation: Operation | None) -> Exchange:
        attempt = 0
        while True:
            exchange = self._send_once(request, operation)
            if exchange.status != 429:
                return exchange
            retry_after = parse_retry_after(exchange.headers.get("retry-after"), self.epoch())
            wait = retry_after if retry_after is not None else min(2.0**attempt, self.max_wait)
            if attempt >= self.max_retries or wait > self.max_wait:
                self.throttles.append(Throttle(exchange, retry_after, 0.0, gave_up=True))
                return exchange
            self.throttles.append(Throttle(exchange, retry_after, wait, gave_up=False))
            self.clock.sleep(wait)
            self._next_slot = max(self._next_slot, self.clock.now())
            attempt += 1

    def _send_once(self, request: SentRequest, operation: Operation | None) -> Exchange:
        now = self.clock.now()
        if self._next_slot > now:
            self.clock.sleep(self._next_slot - now)
            now = self.clock.now()
        self._next_slot = max(now, self._next_slot) + self.gap
        self.sent += 1
        started = time.perf_counter()
        # Our own connections can be cut from the watchdog thread; an injected transport (the
        # in-process tests) is not ours to close, and is held to the deadline after the fact.
        watchdog = threading.Timer(self.request_timeout, self._abort) if self._transport is None else None
        if watchdog is not None:
            watchdog.daemon = True
            watchdog.start()
        try:
            exchange = self._receive(request, operation, now, started)
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if self._aborted:
                error = f"no complete answer within {self.request_timeout:g} s (the request's wall-clock deadline)"
            exchange = Exchange(
                request,
                None,
                error=error,
                operation=operation,
                redactor=self.redactor,
                at=now,
                elapsed_ms=(time.perf_counter() - started) * 1000,
                unreachable=isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) and not self._aborted,
            )
        finally:
            if watchdog is not None:
                watchdog.cancel()
            if self._aborted:
                self._aborted = False
                self._http = self._new_http()
        for listener in self.listeners:
            listener(exchange)
        return exchange

    def _receive(self, request: SentRequest, operation: Operation | None, now: float, started: float) -> Exchange:
        """Stream the answer: in memory up to KEEP_IN_MEMORY, then to a spool file, cut off past max_bytes."""
        deadline = started + self.request_timeout
        with self._http.stream(request.method, request.url, headers=dict(request.headers), content=request.body) as response:
            memory = bytearray()
            spool: IO[bytes] | None = None
            spooled: Path | None = None
            size, cut = 0, False
            try:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        cut = True
                        break
                    if time.perf_counter() > deadline:
                        raise httpx.ReadTimeout(f"no complete answer within {self.request_timeout:g} s (the request's wall-clock deadline)")
                    if spool is None and len(memory) + len(chunk) <= KEEP_IN_MEMORY:
                        memory += chunk
                        continue
                    if spool is None:
                        handle, name = tempfile.mkstemp(dir=self.spool_dir, prefix="answer-", suffix=".bin")
                        spool, spooled = os.fdopen(handle, "wb"), Path(name)
                        spool.write(memory)
                        memory = memory[:EXCERPT_BYTES]
                    spool.write(chunk)
            finally:
                if spool is not None:
                    spool.close()
            return Exchange(
                request,
                response.status_code,
                {k.lower(): v for k, v in response.headers.items()},
                bytes(memory),
                operation=operation,
                redactor=self.redactor,
                at=now,
                elapsed_ms=(time.perf_counter() - started) * 1000,
                foreign=not self.same_origin(request.url),
                size=min(size, self.max_bytes + 1) if cut else size,
                file=spooled if not cut else None,
                cut_at=self.max_bytes if cut else None,
            )


def _wall_time() -> float:
    return time.time()


def encode_json(body: Any) -> bytes:
    """UTF-8 JSON; strings that cannot be UTF-8 (lone surrogates) are sent as escapes instead."""
    try:
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body).encode("ascii")
