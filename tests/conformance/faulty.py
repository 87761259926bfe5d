"""Faulty servers: the real mock behind an ASGI middleware that injects one realistic bug.

A bug is two small hooks: ``before(call)`` may rewrite a request or answer it
itself, and ``after(call, answer)`` may rewrite the mock's answer. Everything
else is the real mock, so the rest of the contract still holds and any other
check that fails is a false alarm.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.routes import Routes
from videogen.dialect import Dialect

__all__ = ["Answer", "Call", "FaultyServer", "Hooks"]


@dataclass(frozen=True)
class Call:
    """A request as it reached the server; ``path`` is relative to the dialect's mount."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    role: str | None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def with_json(self, document: Any, status: int | None = None) -> Answer:
        headers = {**self.headers, "content-type": "application/json"}
        return replace(self, status=status or self.status, headers=headers, body=json.dumps(document).encode())

    @classmethod
    def of_json(cls, status: int, document: Any, headers: dict[str, str] | None = None) -> Answer:
        return cls(status, {"content-type": "application/json", **(headers or {})}, json.dumps(document).encode())


@dataclass
class Hooks:
    before: Callable[[Call], Call | Answer] | None = None
    after: Callable[[Call, Answer], Answer] | None = None


class FaultyServer:
    """ASGI middleware around the mock app for one dialect's mount."""

    def __init__(self, app: ASGIApp, dialect: Dialect, hooks: Hooks) -> None:
        self.app = app
        self.prefix = f"/{dialect.name}"
        self.routes = Routes(dialect, f"http://testserver{self.prefix}")
        self.hooks = hooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"][len(self.prefix) :]
        matched = self.routes.match(scope["method"], path)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        call = Call(scope["method"], path, scope["query_string"].decode("latin-1"), headers, body, matched[0].role if matched else None)
        result = self.hooks.before(call) if self.hooks.before else call
        answer = result if isinstance(result, Answer) else await self._forward(scope, result)
        if self.hooks.after and not isinstance(result, Answer):
            answer = self.hooks.after(result, answer)
        out = {k: v for k, v in answer.headers.items() if k != "content-length"}
        out["content-length"] = str(len(answer.body))
        await send({"type": "http.response.start", "status": answer.status, "headers": [(k.encode(), v.encode()) for k, v in out.items()]})
        await send({"type": "http.response.body", "body": answer.body})

    async def _forward(self, scope: Scope, call: Call) -> Answer:
        inner = dict(scope)
        inner["path"] = self.prefix + call.path  # a hook may have rewritten where the request goes
        inner["query_string"] = call.query.encode("latin-1")
        inner["headers"] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in call.headers.items()]
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": call.body, "more_body": False}

        status, headers, chunks = 500, {}, []

        async def send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(inner, receive, send)
        return Answer(status, headers, b"".join(chunks))
