"""One run, start to finish: the order in which the checks spend requests and creates.

1. free reads: an unknown id (which also proves the base URL answers), then
   schemathesis-generated polls and downloads, valid and invalid;
2. the success path: one create from the document's example;
3. auth and isolation probes on that operation, while it runs;
4. invalid creates and a keyless create, only while the budget has room;
5. a failure probe (with --failure-suffix) and an edge-value sample, if the budget allows;
6. poll every job to its end, judge results and media, re-poll, probe downloads;
7. judge every 429 met on the way.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from conformance.checks.auth import create_probes, download_probes, poll_probes, unknown_id_probe
from conformance.checks.courtesy import judge_throttles
from conformance.checks.inputs import fuzz_reads, invalid_creates
from conformance.checks.lifecycle import Job, poll_until_done, start_job
from conformance.clock import Clock, SystemClock
from conformance.config import RunConfig, resolve_spec
from conformance.generation import Generator
from conformance.report import JobSummary, Report
from conformance.sample import edge_sample
from conformance.session import Observer, Session
from videogen.errors import VideogenError
from videogen.reading import create_request

__all__ = ["UnreachableError", "run"]


class UnreachableError(VideogenError):
    """The base URL does not answer at all; nothing can be judged."""


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
    try:
        _run(session, jobs)
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
        jobs=tuple(JobSummary(j.label, j.purpose, j.handle, tuple(j.states), j.final) for j in jobs),
        notes=tuple(session.notes),
    )


def _run(session: Session, jobs: list[Job]) -> None:
    observe = session.observer
    example = create_request(session.dialect)
    observe.phase("probing an unknown id")
    first = unknown_id_probe(session, example.path_params)
    if first.status is None:
        raise UnreachableError(f"{session.config.base_url} does not answer: {first.error}")
    generator = Generator(session.dialect)
    observe.phase("fuzzing the free operations")
    fuzz_reads(session, generator)
    observe.phase("creating the success path")
    job = start_job(session, "job#1", "success", example.json)
    if job is not None:
        jobs.append(job)
    observe.phase("auth and isolation")
    poll_probes(session, job.handle if job else None, job.path_params if job else example.path_params)
    observe.phase("invalid creates")
    invalid_creates(session, generator)
    create_probes(session)
    for purpose, body in _extra_creates(session):
        if session.budget.left <= 0:
            session.notes.append(f"no create left for the {purpose} probe (--max-creates {session.config.max_creates})")
            continue
        extra = start_job(session, f"job#{len(jobs) + 1}", purpose, body)
        if extra is not None:
            jobs.append(extra)
    observe.phase("polling")
    poll_until_done(session, jobs)
    download_probes(session, [url for j in jobs for url in j.result_urls])
    judge_throttles(session)


def _extra_creates(session: Session) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    if session.config.failure_suffix:
        out.append(("failure", create_request(session.dialect, prompt_suffix=session.config.failure_suffix).json))
    else:
        session.notes.append("no failure probe: pass --failure-suffix with the text that makes the target fail a job")
    sample = edge_sample(session.dialect, session.create_op)
    if sample is not None:
        out.append(("sample", sample))
    return out
