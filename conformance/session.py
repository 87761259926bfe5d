"""One run's shared state: the dialect, the client, the ledger, the create budget.

The session is the only thing the checks receive; it owns the HTTP client and
knows how to put a key on a request the way the operation's security asks.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from conformance.checks.responses import ResponseConformance
from conformance.client import Client
from conformance.clock import Clock
from conformance.config import RunConfig
from conformance.exchange import Exchange, Redactor
from conformance.failures import Ledger
from conformance.receiver import Receiver
from conformance.report import Media
from conformance.routes import Routes
from videogen.dialect import Dialect, Operation
from videogen.errors import ConfigError, VideogenError
from videogen.pointer import MISSING
from videogen.reading import PollRequest, credentials, poll_request

__all__ = ["Budget", "NullObserver", "Observer", "RunStopped", "Session"]


class Observer(Protocol):
    """Progress while a run goes on (the CLI draws it with rich; the API is silent)."""

    def phase(self, name: str) -> None: ...

    def job(self, label: str, state: str, elapsed: float) -> None: ...


class NullObserver:
    def phase(self, name: str) -> None:
        return None

    def job(self, label: str, state: str, elapsed: float) -> None:
        return None


@dataclass
class Budget:
    """Creates are paid: never more than ``limit`` accepted, counting ones that should have been refused."""

    limit: int
    spent: int = 0
    unexpected: int = 0  # creates the server accepted although they were meant to be refused

    @property
    def left(self) -> int:
        return self.limit - self.spent

    def spend(self, *, unexpected: bool = False) -> None:
        self.spent += 1
        self.unexpected += int(unexpected)


class RunStopped(VideogenError):
    """The run cannot go on (its budget is spent, the target went silent): the report says what was seen."""


class Session:
    def __init__(
        self,
        config: RunConfig,
        dialect: Dialect,
        *,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.config = config
        self.dialect = dialect
        self.read = dialect.read
        self.clock = clock
        self.observer = observer or NullObserver()
        self.ledger = Ledger()
        self.budget = Budget(config.max_creates)
        self.routes = Routes(dialect, config.base_url)
        self._spool = tempfile.TemporaryDirectory(prefix="conformance-")  # answers too large to hold in memory
        self.started = clock.now()
        self.silent = 0  # requests in a row that got no answer
        self.client = Client(
            config.base_url,
            clock=clock,
            redactor=Redactor(config.secrets, (slot for op in dialect.operations for slot in op.credentials)),
            rate_limit=config.rate_limit,
            transport=transport,
            request_timeout=config.request_timeout,
            max_wait=min(config.timeout, 300.0),
            max_bytes=config.max_download_bytes,
            spool_dir=Path(self._spool.name),
        )
        self.client.listeners.append(ResponseConformance(dialect, self.ledger))
        self.create_op = dialect.create
        self.notes: list[str] = []
        self.media: dict[str, list[Media]] = {}  # job label -> the results the kit opened, for the report
        self.receiver: Receiver | None = None
        if config.webhook_listen is not None:
            host, _, port = config.webhook_listen.rpartition(":")
            try:
                self.receiver = Receiver(host, int(port)).__enter__()
            except OSError as exc:
                raise ConfigError(f"--webhook-listen {config.webhook_listen}: cannot listen there ({exc})") from None

    def close(self) -> None:
        self.client.close()
        self._spool.cleanup()
        if self.receiver is not None:
            self.receiver.__exit__(None, None, None)

    @property
    def callback_url(self) -> str | None:
        """Where the target reaches the kit's receiver, when one runs."""
        if self.receiver is None:
            return None
        return self.config.webhook_url or self.receiver.url

    def with_callback(self, body: Any) -> Any:
        """``body`` with the receiver's URL where the create documents a callback URL (in its body)."""
        url = self.callback_url
        if url is None:
            return body
        for event in self.create_op.callbacks:
            if event.url is not None and event.url.pointer is not None:
                body = event.url.pointer.set(body, url)
        return body

    def kind_code(self, kind: str) -> int:
        return self.dialect.error_kind(kind).code

    def chosen(self, *kinds: str) -> bool:
        """Whether every named error kind is the mock's choice: the vendor published no status for it."""
        return bool(kinds) and all(self.dialect.error_kind(k).choice for k in kinds)

    def unknown_codes(self) -> list[int]:
        """What a poll may answer for an id that names none of the caller's operations: the not-found
        error, or the status a dialect documents for it (a vendor that answers 200 ``UNKNOWN``)."""
        polls = self.dialect.by_role("poll")
        return sorted({self.kind_code("not_found"), *(op.unknown_status for op in polls if op.unknown is not None)})

    def send(
        self,
        method: str,
        target: str,
        *,
        key: str | None,
        op: Operation | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = MISSING,
        content: bytes | None = None,
        follow_redirects: bool = False,
        complete: bool = False,
    ) -> Exchange:
        """Send with ``key`` placed as ``op``'s security asks (never to a URL outside the base URL), and
        the operation's required headers (a version header), unless ``complete``: the headers given
        are exactly the ones to send (a generated probe may leave one out on purpose).

        Raises :class:`RunStopped` when the run's budget is spent or the target stopped answering."""
        spent = self.clock.now() - self.started
        if spent > self.config.run_budget:
            raise RunStopped(f"the run's budget of {self.config.run_budget:g} s ran out (see --budget); the verdict covers what was seen")
        url = self.client.url(target)
        if op is None:
            matched = self.routes.match(method, url)
            op = matched[0] if matched else None
        chosen = dict(headers or {})
        if not complete and op is not None and op.headers and self.client.is_ours(url):  # sent even without a key
            chosen = {**dict(op.headers), **chosen}
        if key is not None and op is not None and op.credentials and self.client.is_ours(url):
            extra_headers, query = credentials(op, key)
            chosen.update(extra_headers)
            if query:
                url += ("&" if "?" in url else "?") + httpx.QueryParams(query).__str__()
        exchange = self.client.send(
            method, url, headers=chosen, json_body=json_body, content=content, operation=op, follow_redirects=follow_redirects
        )
        self.silent = self.silent + 1 if exchange.status is None else 0
        if self.silent >= self.config.max_silent:
            raise RunStopped(f"the target stopped answering: {self.silent} requests in a row got no answer (the last: {exchange.error})")
        return exchange

    def poll(self, handle: str, path_params: Mapping[str, str], *, key: str | None, headers: Mapping[str, str] | None = None) -> Exchange:
        request, op = self.poll_request(handle, path_params)
        body = request.json if request.json is not None else MISSING
        return self.send(request.method, request.path, key=key, op=op, headers=headers, json_body=body)

    def poll_request(self, handle: str, path_params: Mapping[str, str]) -> tuple[PollRequest, Operation]:
        request = poll_request(self.read, handle, **dict(path_params))
        matched = self.routes.match(request.method, request.path)
        return request, matched[0] if matched else self.dialect.by_role("poll")[0]
