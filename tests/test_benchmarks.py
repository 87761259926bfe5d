"""The benchmarks' requests are built from the documents: they must reach the routes they mean."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from benchmarks.throughput import workload
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
