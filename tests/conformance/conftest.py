"""Running the kit in-process against the mock (or a faulty mock), on the mock's fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

import conformance
from conformance.report import Report
from mockserver.testing import MockVideoAPI, SyncASGITransport, free_port
from tests.conformance.faulty import FaultyServer, Hooks
from videogen.dialect import load_dialects

DIALECTS = {d.name: d for d in load_dialects()}
KEY, OTHER_KEY = "key-1", "key-2"


class MockTime:
    """The kit's clock: sleeping moves the mock's fake clock, so a ten-minute job takes no wall time."""

    def __init__(self, mock: MockVideoAPI) -> None:
        self.mock = mock
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.mock.advance(seconds)
            self.mock.deliver_due()  # in-process there is no background deliverer: send what became due


class Rewriting(httpx.AsyncBaseTransport):
    """How a faulty target sends its webhooks: each delivery rewritten (or dropped) on its way out."""

    def __init__(self, rewrite: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes] | None]) -> None:
        self.rewrite = rewrite
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        changed = self.rewrite(dict(request.headers), request.content)
        if changed is None:
            return httpx.Response(200)  # dropped: the receiver never hears of it
        headers, body = changed
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        return await self.inner.handle_async_request(httpx.Request(request.method, request.url, headers=headers, content=body))

    async def aclose(self) -> None:
        await self.inner.aclose()


def listening_mock(
    rewrite: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes] | None] | None = None,
) -> tuple[MockVideoAPI, str]:
    """A mock whose webhooks go to a port the kit will listen on (rewritten on the way when asked)."""
    port = free_port()
    transport = Rewriting(rewrite) if rewrite is not None else None
    mock = MockVideoAPI(seed=11, webhook_urls=((None, f"http://127.0.0.1:{port}/"),), webhook_transport=transport)
    return mock, f"127.0.0.1:{port}"


def run_kit(name: str, hooks: Hooks | None = None, *, mock: MockVideoAPI | None = None, **options: Any) -> Report:
    """One in-process run of the kit against the mock (wrapped in ``hooks`` when given)."""
    settings: dict[str, Any] = {
        "other_api_key": OTHER_KEY,
        "rate_limit": 0,
        "poll_interval": 1.0,
        "timeout": 120.0,
        "fuzz_examples": 4,
    }
    settings.update(options)
    key = settings.pop("api_key", KEY)
    own = mock is None
    mock = mock or MockVideoAPI(seed=11)
    app = FaultyServer(mock.app, DIALECTS[name], hooks) if hooks else mock.app
    transport = SyncASGITransport(app)
    try:
        return conformance.check(name, f"http://testserver/{name}", key, transport=transport, clock=MockTime(mock), **settings)
    finally:
        transport.close()
        if own:
            mock.close()


@pytest.fixture(params=sorted(DIALECTS))
def dialect_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name
