"""pytest plugin (entry point ``videogen_mock``): the mock as a fixture.

    def test_my_client(videogen_mock):             # in-process, fake clock
        r = videogen_mock.client.post("/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning", ...)
        videogen_mock.advance(30)

    @pytest.mark.videogen_mock(seed=3, time_scale=0.5)
    def test_my_sdk(videogen_mock_live):           # real socket, for SDKs and subprocesses
        client = make_sdk(base_url=videogen_mock_live.url("gemini"))

Marker keyword arguments are :class:`mockserver.config.MockConfig` fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported lazily: pytest loads plugins before coverage starts measuring
    from mockserver.testing import LiveMockServer, MockVideoAPI

__all__ = ["videogen_mock", "videogen_mock_live"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "videogen_mock(**options): options for the videogen_mock fixtures (MockConfig fields)")


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("videogen_mock")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def videogen_mock(request: pytest.FixtureRequest) -> Iterator[MockVideoAPI]:
    """The mock in-process with a fake clock: ``.client``, ``.advance(s)``, ``.records()``."""
    from mockserver.testing import MockVideoAPI

    with MockVideoAPI(**_options(request)) as mock:
        yield mock


@pytest.fixture
def videogen_mock_live(request: pytest.FixtureRequest) -> Iterator[LiveMockServer]:
    """The mock on a real loopback port with a fake clock: ``.url(dialect)``, ``.advance(s)``."""
    from mockserver.testing import LiveMockServer

    with LiveMockServer(**_options(request)) as server:
        yield server
