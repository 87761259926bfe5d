"""The application factory: ``create_app(dialects, clock=..., store=..., config=...)``.

Layout of the served URL space::

    /                       index: the mounted dialects
    /<dialect>/openapi.json the dialect's document, servers rewritten to the mount
    /<dialect>/...          the dialect (see DialectApp)
    /_mock/...              the control API
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import random
import re
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.clock import Clock, VirtualClock
from mockserver.config import MockConfig
from mockserver.control import control_router
from mockserver.dialect_app import DialectApp
from mockserver.responses import JSONBytes
from mockserver.runtime import Runtime
from mockserver.store import MemoryStore, Store
from mockserver.webhooks import Deliverer
from videogen.dialect import Dialect, load_dialects
from videogen.errors import ConfigError

__all__ = ["create_app"]


class _Mount(Mount):
    """A mount whose path may hold any character: a token with ``%0A`` must still reach the
    control API, to get its JSON 404 rather than Starlette's plain-text one."""

    def __init__(self, path: str, app: ASGIApp) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def _enable_access_log() -> None:
    logger = logging.getLogger("videogen.access")
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def create_app(
    dialects: Iterable[Dialect] | Path | None = None,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    config: MockConfig | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the mock server. Everything is loaded and compiled here, before the first request.

    ``dialects`` is a list of loaded dialects, a folder of YAML documents, or None
    for ``config.specs_dir`` (itself defaulting to the bundled specs).
    ``webhook_transport`` carries webhooks in-process (tests); by default they go over HTTP.
    """
    config = config or MockConfig()
    if config.access_log:
        _enable_access_log()
    if dialects is None or isinstance(dialects, Path):
        loaded = load_dialects(dialects if isinstance(dialects, Path) else config.specs_dir)
    else:
        loaded = list(dialects)
    by_name: dict[str, Dialect] = {}
    for dialect in loaded:
        if dialect.name in by_name or dialect.name.startswith("_"):
            raise ConfigError(f"dialect name {dialect.name!r} is taken or reserved; rename {dialect.path}")
        by_name[dialect.name] = dialect
    for name, _ in config.webhook_urls:
        if name is not None and not (name in by_name and by_name[name].webhooks):
            with_webhooks = ", ".join(n for n, d in by_name.items() if d.webhooks) or "none"
            raise ConfigError(f"--webhook-url {name}=...: {name!r} is not a dialect that sends webhooks (those that do: {with_webhooks})")
    rng = random.Random(config.seed)  # seed None: seeded from the OS
    runtime = Runtime(by_name, store or MemoryStore(config.max_operations), clock or VirtualClock(), config, rng)
    deliverer = Deliverer(runtime, transport=webhook_transport)
    runtime.wake_deliverer = deliverer.wake

    routes: list[Any] = [Route("/", _index(runtime), methods=["GET"]), _Mount("/_mock", control_router(runtime))]
    mounts: dict[str, DialectApp] = {}
    for name, dialect in by_name.items():
        mounts[name] = DialectApp(dialect, runtime)
        routes.append(Route(f"/{name}/openapi.json", _openapi(dialect, config), methods=["GET"]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The one background job: webhooks that became due (see mockserver.webhooks).
        task = asyncio.create_task(deliverer.run()) if any(d.events for d in by_name.values()) else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await deliverer.close()
            await runtime.store.close()

    async def store_down(request: Request, exc: Exception) -> Response:
        runtime.store_outage(exc)
        body = {"error": {"code": 503, "message": f"the store is unavailable ({type(exc).__name__}); retry shortly"}}
        return JSONBytes.of(body, 503, {"retry-after": "1"})

    handlers = {failure: store_down for failure in runtime.store.failures if issubclass(failure, Exception)}
    app = MockApp(mounts, routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.state.runtime = runtime
    app.state.deliverer = deliverer
    return app


class MockApp(Starlette):
    """Starlette, with a direct path to each dialect's app for the requests that carry the load.

    Every path under ``/<dialect>`` goes straight to that dialect's app, which answers
    every error itself, in the vendor's shape (an id holding ``%0A`` included); the
    router and the generic middleware would only add time. Everything else (the
    index, ``/_mock``, the documents, lifespan) goes through Starlette as usual.
    """

    def __init__(self, mounts: dict[str, DialectApp], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mounts = mounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            end = path.find("/", 1)
            head = path[1:end] if end > 0 else path[1:]
            mounted = self.mounts.get(head)
            if mounted is not None and path != f"/{head}/openapi.json":
                await mounted(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _index(runtime: Runtime) -> Any:
    async def index(request: Request) -> Response:
        return JSONBytes.of(
            {
                "service": "videogen-mock",
                "dialects": {
                    name: {"title": d.title, "mount": f"/{name}", "openapi": f"/{name}/openapi.json"}
                    for name, d in runtime.dialects.items()
                },
                "control": "/_mock/openapi.json",
            }
        )

    return index


def _openapi(dialect: Dialect, config: MockConfig) -> Any:
    document = copy.deepcopy(dialect.document)

    async def openapi(request: Request) -> Response:
        base = config.public_url.rstrip("/") if config.public_url else str(request.base_url).rstrip("/")
        served = dict(document)
        served["servers"] = [{"url": f"{base}/{dialect.name}", "description": "videogen-mock"}]
        return JSONBytes.of(served)

    return openapi
