"""One run, start to finish: the registered phases (:mod:`conformance.phases`), in order.

The phases spend requests and creates in this order: free reads (an unknown id,
which also proves the base URL answers; generated polls and downloads), the
success path's create, auth and isolation probes while it runs, invalid creates
and a keyless create while the budget has room, a failure probe and an edge
sample, polling every job to its end (results, media, re-polls), download
probes, and finally every 429 met on the way.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from conformance.checks.auth import UnreachableError
from conformance.checks.lifecycle import Job
from conformance.clock import Clock, SystemClock
from conformance.config import RunConfig, resolve_spec
from conformance.generation import Generator
from conformance.phases import Run, registered
from conformance.report import JobSummary, Report
from conformance.session import Observer, RunStopped, Session
from videogen.reading import create_request

__all__ = ["UnreachableError", "run"]


def run(
    config: RunConfig,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
    observer: Observer | None = None,
) -> Report:
    """Judge ``config.base_url`` against its dialect and return the report (never raises on a finding)."""
    dialect = resolve_spec(config.spec)
    clock = clock or SystemClock()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    wall = time.monotonic()
    session = Session(config, dialect, clock=clock, transport=transport, observer=observer)
    jobs: list[Job] = []
    stopped: str | None = None
    try:
        _run(session, jobs)
    except RunStopped as exc:
        stopped = str(exc)
        session.observer.phase(f"stopped: {stopped}")
    finally:
        session.close()
    return Report(
        spec=dialect.name,
        title=dialect.title,
        base_url=config.base_url,
        cases=tuple(session.ledger.results()),
        creates_spent=session.budget.spent,
        max_creates=config.max_creates,
        unexpected_creates=session.budget.unexpected,
        requests=session.client.sent,
        duration_s=time.monotonic() - wall,
        started_at=started_at,
        jobs=tuple(
            JobSummary(
                j.label,
                j.purpose,
                j.handle,
                tuple(j.states),
                j.final,
                create_ms=j.create_ms,
                polls=tuple(j.polls),
                media=tuple(session.media.get(j.label, ())),
            )
            for j in jobs
        ),
        notes=tuple(session.notes),
        stopped=stopped,
    )


def _run(session: Session, jobs: list[Job]) -> None:
    run = Run(session, Generator(session.dialect), create_request(session.dialect), jobs)
    for phase in registered():
        session.observer.phase(phase.name)
        phase.run(run)
