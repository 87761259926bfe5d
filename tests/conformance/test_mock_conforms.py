"""Trust, part one: the correct mock passes every check in every dialect, with no false alarm."""

from __future__ import annotations

import time

import pytest

import conformance
from conformance.failures import Status
from conformance.sample import edge_sample
from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer
from tests.conformance.conftest import DIALECTS, KEY, OTHER_KEY, run_kit


def test_every_dialect_conforms_in_process(dialect_name: str) -> None:
    report = run_kit(dialect_name, max_creates=3, failure_suffix=" [mock:fail]", fuzz_examples=8)
    assert report.conforms, report.summary()
    dialect = DIALECTS[dialect_name]
    varies = edge_sample(dialect, dialect.create) is not None  # a document may leave nothing to vary at no extra cost
    assert report.creates_spent == (3 if varies else 2)
    assert [j.final for j in report.jobs] == ["succeeded", "failed", "succeeded"][: report.creates_spent]
    judged = {c.check for c in report.cases if c.status is Status.PASSED}
    expected = {
        "response.schema",
        "input.invalid_rejected",
        "lifecycle.media",
        "lifecycle.stable",
        "lifecycle.failure_error",
        "auth.isolation",
    }
    if dialect.create.choice:  # a create the vendor never published: its input handling is no contract
        expected.discard("input.invalid_rejected")
    for check in sorted(expected):
        assert check in judged, f"{check} was never judged"
    assert report.score == 100.0


def test_a_minimal_budget_still_proves_the_success_path(dialect_name: str) -> None:
    report = run_kit(dialect_name, max_creates=1, other_api_key=None)
    assert report.conforms, report.summary()
    assert report.creates_spent == 1
    assert any("no create left" in n for n in report.notes)


def test_a_zero_budget_sends_no_create(dialect_name: str) -> None:
    report = run_kit(dialect_name, max_creates=0)
    assert report.conforms, report.summary()
    assert report.creates_spent == 0 and not report.jobs


@pytest.mark.slow
def test_every_dialect_conforms_over_real_sockets() -> None:
    """The acceptance run: a real uvicorn, real time (sped up), every dialect, under 60 s in all."""
    started = time.monotonic()
    timings = {}
    with LiveMockServer(clock=VirtualClock(), time_scale=0.02, seed=5) as server:
        for name in sorted(DIALECTS):
            t = time.monotonic()
            report = conformance.check(
                name,
                server.url(name),
                KEY,
                other_api_key=OTHER_KEY,
                max_creates=3,
                failure_suffix=" [mock:fail]",
                rate_limit=0,
                poll_interval=0.05,
                timeout=30,
            )
            timings[name] = time.monotonic() - t
            assert report.conforms, report.summary()
            dialect = DIALECTS[name]
            assert report.creates_spent == (3 if edge_sample(dialect, dialect.create) is not None else 2)
    total = time.monotonic() - started
    print("wall time per dialect:", {k: round(v, 2) for k, v in timings.items()})
    assert total < 60, timings
