"""10,000 operations created and polled across two uvicorn workers sharing one Redis.

Each client connection is pinned to one worker, so every operation is polled
through the worker that did *not* create it (see benchmarks/concurrency.py).
"""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.concurrency import exercise
from benchmarks.servers import mock_cmd, serve
from mockserver.testing import free_port

pytestmark = pytest.mark.slow  # real processes; about 10 s

OPERATIONS = 10_000


def test_two_workers_on_redis_lose_and_duplicate_nothing(redis_url: str) -> None:
    store = redis_url.rsplit("/", 1)[0] + "/7"  # a database of its own on the session's redis-server
    port = free_port()
    with serve(mock_cmd(port, "--store", store, "--workers", "2"), "/_mock/health", port=port, cpus=None) as served:
        outcome = asyncio.run(exercise(served.url, OPERATIONS, concurrency=64, workers=2))
    report = "\n".join(outcome.lines())
    assert outcome.ok, report
    assert len(outcome.workers) == 2, report
    assert all(counts["create"] > 0 and counts["poll"] > 0 for counts in outcome.workers.values()), report
    assert outcome.cross_worker_polls == OPERATIONS, report
