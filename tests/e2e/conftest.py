"""Fixtures the end-to-end tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.receiver import Receiver


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A local webhook/callback endpoint, one per test module (its deliveries outlive a test)."""
    with Receiver() as r:
        yield r
