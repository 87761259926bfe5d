"""The benchmarks' requests are built from the documents: they must reach the routes they mean."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from benchmarks import loadtest
from benchmarks.throughput import workload
from mockserver.testing import LiveMockServer
from videogen.dialect import load_dialects


def measurable() -> list[str]:
    names = []
    for dialect in load_dialects():
        try:
            workload(dialect.name)
        except ValueError:  # a dialect the wrk scripts cannot drive (multipart create, key in the query...)
            continue
        names.append(dialect.name)
    return names


@pytest.mark.parametrize("name", measurable())
def test_the_made_up_poll_prism_answers_is_a_poll_of_the_dialect(name: str) -> None:
    work = workload(name)
    routed = work.dialect.router.match("GET", urlsplit(work.unknown_poll()).path)
    assert routed.target is not None and routed.target.role == "poll", work.unknown_poll()


def test_the_reference_dialect_is_measurable() -> None:
    assert "gemini" in measurable()


def test_the_load_test_passes_on_every_bundled_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    """Two operations per dialect through the load test's own client: created, ended, every result an MP4."""
    with LiveMockServer(seed=1) as live:
        code = asyncio.run(loadtest.run(live.base_url, 2 * len(load_dialects()), 16))
    out = capsys.readouterr().out
    assert code == 0 and "RESULT PASS" in out, out
