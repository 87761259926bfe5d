"""Running the kit in-process against the mock (or a faulty mock), on the mock's fake clock."""

from __future__ import annotations

from typing import Any

import pytest

import conformance
from conformance.report import Report
from mockserver.testing import MockVideoAPI, SyncASGITransport
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
    own = mock is None
    mock = mock or MockVideoAPI(seed=11)
    app = FaultyServer(mock.app, DIALECTS[name], hooks) if hooks else mock.app
    transport = SyncASGITransport(app)
    try:
        return conformance.check(name, f"http://testserver/{name}", KEY, transport=transport, clock=MockTime(mock), **settings)
    finally:
        transport.close()
        if own:
            mock.close()


@pytest.fixture(params=sorted(DIALECTS))
def dialect_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name
