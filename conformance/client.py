"""The kit's HTTP client: rate-limited, courteous under 429, and recording every exchange.

It wraps ``httpx.Client`` and accepts any ``httpx.BaseTransport``, so the kit runs
against a real base URL or in-process against an ASGI app. Paths are sent as
given: a handle with slashes stays literal, never percent-encoded.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.clock import Clock
from conformance.exchange import Exchange, Redactor, SentRequest
from videogen.dialect import Operation
from videogen.pointer import MISSING

__all__ = ["Client", "Throttle", "encode_json", "parse_retry_after"]

Listener = Callable[[Exchange], None]
MAX_REDIRECTS = 5


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
        self._http = httpx.Client(transport=transport, timeout=request_timeout, follow_redirects=False)

    def close(self) -> None:
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
        try:
            response = self._http.request(request.method, request.url, headers=dict(request.headers), content=request.body)
            exchange = Exchange(
                request,
                response.status_code,
                {k.lower(): v for k, v in response.headers.items()},
                response.content,
                operation=operation,
                redactor=self.redactor,
                at=now,
                elapsed_ms=(time.perf_counter() - started) * 1000,
                foreign=not self.same_origin(request.url),
            )
        except httpx.HTTPError as exc:
            exchange = Exchange(
                request,
                None,
                error=f"{type(exc).__name__}: {exc}",
                operation=operation,
                redactor=self.redactor,
                at=now,
                elapsed_ms=(time.perf_counter() - started) * 1000,
            )
        for listener in self.listeners:
            listener(exchange)
        return exchange


def _wall_time() -> float:
    return time.time()


def encode_json(body: Any) -> bytes:
    """UTF-8 JSON; strings that cannot be UTF-8 (lone surrogates) are sent as escapes instead."""
    try:
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body).encode("ascii")
