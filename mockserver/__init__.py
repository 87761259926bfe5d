"""The stateful mock server: every dialect in ``specs/`` served as a simulator.

    from mockserver import MockVideoAPI
    with MockVideoAPI(seed=1) as mock:           # in-process, on a fake clock
        mock.client.post("/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning", ...)
        mock.advance(60)

Names are imported on first use, so loading the pytest plugin costs nothing until a test asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videogen.lazy import lazy_exports

if TYPE_CHECKING:
    from mockserver.app import create_app
    from mockserver.clock import Clock, FakeClock, VirtualClock
    from mockserver.config import MockConfig
    from mockserver.store import Store, open_store
    from mockserver.testing import LiveMockServer, MockVideoAPI

__all__ = [
    "Clock",
    "FakeClock",
    "LiveMockServer",
    "MockConfig",
    "MockVideoAPI",
    "Store",
    "VirtualClock",
    "create_app",
    "open_store",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "mockserver.app": ("create_app",),
        "mockserver.clock": ("Clock", "FakeClock", "VirtualClock"),
        "mockserver.config": ("MockConfig",),
        "mockserver.store": ("Store", "open_store"),
        "mockserver.testing": ("LiveMockServer", "MockVideoAPI"),
    },
    globals(),
)
