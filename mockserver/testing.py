"""Test helpers: the mock in-process or on a real socket, with a clock the test moves.

from mockserver.testing import MockVideoAPI

with MockVideoAPI(seed=1) as mock:
    r = mock.client.post("/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning", ...)
    mock.advance(60)          # every operation moves 60 s forward; nothing sleeps

with LiveMockServer(seed=1) as server:   # a real uvicorn on 127.0.0.1, for real SDKs
    base = server.url("gemini")
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
import uvicorn
from starlette.applications import Starlette

from mockserver.app import create_app
from mockserver.clock import Clock, FakeClock
from mockserver.config import MockConfig
from mockserver.record import OperationRecord
from mockserver.runtime import Runtime
from mockserver.server import BoundedHttpToolsProtocol, configure
from mockserver.store import Store
from mockserver.webhooks import Deliverer
from videogen.dialect import Dialect
from videogen.errors import VideogenError

__all__ = ["LiveMockServer", "MockVideoAPI", "SyncASGITransport", "free_port", "redis_answers"]

T = TypeVar("T")


class _LoopThread:
    """An event loop in a daemon thread: a harness someone forgets to close never holds up exit."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="videogen-mock-loop", daemon=True)
        self._thread.start()

    def call(self, function: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """Run ``await function(*args)`` on the loop and return its result (or raise its exception)."""
        return asyncio.run_coroutine_threadsafe(function(*args), self.loop).result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class SyncASGITransport(httpx.BaseTransport):
    """Calls an ASGI app in-process from synchronous code, through an event loop in a daemon thread.

    (Starlette's TestClient does the same, but now warns when used with httpx.)
    """

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.portal = _LoopThread()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

        return self.portal.call(call)

    def close(self) -> None:
        self.portal.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def redis_answers(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a Redis server on ``port`` answers PING: a started redis-server is ready."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class _Harness:
    app: Starlette
    clock: Clock

    def _build(
        self, specs: Iterable[Dialect] | Path | None, clock: Clock | None, store: Store | None, config: MockConfig | None, **options: Any
    ) -> None:
        self.clock = clock or FakeClock()
        transport = options.pop("webhook_transport", None)
        config = config or MockConfig(**options)
        self.app = create_app(specs, clock=self.clock, store=store, config=config, webhook_transport=transport)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def advance(self, seconds: float) -> float:
        """Move the clock (and so every operation) forward."""
        return self.clock.advance(seconds)

    def records(self, dialect: str | None = None) -> list[OperationRecord]:
        import asyncio

        return asyncio.run(self.runtime.store.page(dialect=dialect, limit=100_000))


class MockVideoAPI(_Harness):
    """The mock in-process; ``client`` is an ``httpx.Client`` wired to the app (no sockets)."""

    def __init__(
        self,
        specs: Iterable[Dialect] | Path | None = None,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        config: MockConfig | None = None,
        **options: Any,
    ) -> None:
        self._build(specs, clock, store, config, **options)
        self.client = httpx.Client(transport=SyncASGITransport(self.app), base_url="http://testserver")

    def url(self, dialect: str) -> str:
        return f"http://testserver/{dialect}"

    def deliver_due(self) -> int:
        """Send the webhooks that became due (in-process there is no background task); returns the attempts."""
        deliverer: Deliverer = self.app.state.deliverer
        transport = self.client._transport
        assert isinstance(transport, SyncASGITransport)
        attempted: int = transport.portal.call(deliverer.deliver_due)
        return attempted

    def __enter__(self) -> MockVideoAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class LiveMockServer(_Harness):
    """The mock on a real loopback socket, in a background thread, for real client SDKs."""

    def __init__(
        self,
        specs: Iterable[Dialect] | Path | None = None,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        config: MockConfig | None = None,
        port: int | None = None,
        **options: Any,
    ) -> None:
        self._build(specs, clock, store, config, **options)
        self.port = port or free_port()
        self._ready = threading.Event()
        config = self.runtime.config
        configure(max_header_bytes=config.max_header_bytes, header_timeout_s=config.header_timeout_s, body_timeout_s=config.body_timeout_s)
        self._server = _Server(
            uvicorn.Config(
                self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, http=BoundedHttpToolsProtocol
            ),
            self._ready,
        )
        self._thread = threading.Thread(target=self._server.run, name="videogen-mock", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, dialect: str) -> str:
        return f"{self.base_url}/{dialect}"

    def start(self) -> LiveMockServer:
        self._thread.start()
        if not self._ready.wait(timeout=30) or not self._server.started:
            raise VideogenError(f"the mock did not start on 127.0.0.1:{self.port} within 30 s")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> LiveMockServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
