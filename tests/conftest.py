from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.testing import MockVideoAPI
from videogen.dialect import Dialect, load_dialects

DIALECTS = {d.name: d for d in load_dialects()}


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request: pytest.FixtureRequest) -> Dialect:
    """Every bundled dialect, one test each."""
    return DIALECTS[request.param]


@pytest.fixture
def mock() -> Iterator[MockVideoAPI]:
    """The mock in-process with a fake clock and a fixed seed."""
    with MockVideoAPI(seed=7) as m:
        yield m
