"""Lifecycle: create, poll each operation until it ends, then judge what it delivered.

States come from the dialect's ``read.states`` rules; their order is
``videogen.states.ORDER``. Polls back off (interval x1.5 up to a cap), and every
finished operation is polled twice more to prove its outcome is stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.bodies import encode_body
from conformance.catalog import Check
from conformance.checks.results import judge_results
from conformance.exchange import Exchange
from conformance.expectations import Expectation, expectation
from conformance.failures import Severity, observed
from conformance.phases import Run, phase
from conformance.report import Poll
from conformance.sample import edge_sample
from conformance.session import Session
from videogen.pointer import MISSING
from videogen.reading import classify, create_request, handle_of, results_of
from videogen.states import ORDER, TERMINAL

__all__ = ["Job", "poll_until_done", "start_job"]

REPOLLS = 2
MAX_POLL_ERRORS = 3


@dataclass
class Job:
    """One operation the kit created and follows."""

    label: str
    purpose: str  # "success", "sample" or "failure"
    handle: str
    path_params: dict[str, str]
    expect: Expectation
    created_at: float
    interval: float
    next_at: float
    states: list[str] = field(default_factory=list)
    rank: int = 0
    final: str | None = None
    outcome: tuple[Any, ...] | None = None
    repolls: int = 0
    errors: int = 0
    done: bool = False
    result_urls: list[str] = field(default_factory=list)
    literal_checked: bool = False
    create_ms: float = 0.0
    polls: list[Poll] = field(default_factory=list)  # every poll, for the report's timeline


def start_job(session: Session, label: str, purpose: str, body: Any) -> Job | None:
    """Send one create (it must fit the budget) and return the job to follow, if one started."""
    op = session.create_op
    if session.budget.left <= 0:
        session.ledger.skipped(Check.LIFECYCLE_CREATE, label, "no creates left in --max-creates")
        return None
    request = create_request(session.dialect, body=body)
    headers, content = encode_body(op, session.with_callback(request.json))
    exchange = session.send(request.method, request.path, key=session.config.api_key, op=op, headers=headers, content=content)
    check = Check.INPUT_VALID_ACCEPTED if purpose == "sample" else Check.LIFECYCLE_CREATE
    target = op.operation_id if purpose == "sample" else label
    if exchange.status is not None and 200 <= exchange.status < 300:
        session.budget.spend()
    elif op.choice and exchange.status is not None and exchange.status < 500:
        # The vendor never published this create: the kit tried the mock's guess at it, and it was not that.
        reason = f"the create is the mock's choice, not published by the vendor, and the target answered it {exchange.status}"
        session.ledger.skipped(check, target, reason)
        session.notes.append(f"{label}: {reason}; no job to follow")
        return None
    else:
        five = exchange.status is not None and exchange.status >= 500
        title = f"a valid create ({purpose}) was refused" if not five else f"a valid create ({purpose}) got a server error"
        session.ledger.failed(
            observed(
                check,
                exchange,
                severity=Severity.CRITICAL if five else Severity.HIGH,
                title=title,
                expected="2xx and a handle",
                target=target,
            )
        )
        return None
    if purpose == "sample":
        session.ledger.passed(check, target)
    handle = handle_of(session.read, exchange.json())
    if handle is None:
        title = f"the create answer has no handle at {session.read.handle.text or '/'}"
        session.ledger.failed(
            observed(
                Check.LIFECYCLE_CREATE, exchange, severity=Severity.HIGH, title=title, expected="a non-empty string handle", target=label
            )
        )
        return None
    session.ledger.passed(Check.LIFECYCLE_CREATE, label)
    now = session.clock.now()
    expect = expectation(session.dialect, op, request.json, request.path_params)
    job = Job(label, purpose, handle, request.path_params, expect, now, session.config.poll_interval, now + session.config.poll_interval)
    job.create_ms = exchange.elapsed_ms
    session.observer.job(label, "created", 0.0)
    return job


def poll_until_done(session: Session, jobs: list[Job]) -> None:
    """Poll every job, earliest due first, until each has ended and been re-polled (or timed out)."""
    while True:
        active = [j for j in jobs if not j.done]
        if not active:
            return
        job = min(active, key=lambda j: j.next_at)
        wait = job.next_at - session.clock.now()
        if wait > 0:
            session.clock.sleep(wait)
        _poll_once(session, job)


def _schedule(session: Session, job: Job) -> None:
    job.next_at = session.clock.now() + job.interval
    job.interval = min(job.interval * 1.5, session.config.max_poll_interval)


def _poll_once(session: Session, job: Job) -> None:
    exchange = session.poll(job.handle, job.path_params, key=session.config.api_key)
    elapsed = session.clock.now() - job.created_at
    body = exchange.json()
    _record(job, exchange, body if exchange.status is not None and 200 <= exchange.status < 300 else MISSING, session)
    if not job.literal_checked and "/" in job.handle and job.handle in exchange.request.url:
        job.literal_checked = True
        _judge_literal(session, job, exchange)
    if exchange.status is None or not 200 <= exchange.status < 300 or body is MISSING:
        five = exchange.status is None or exchange.status >= 500
        title = "a poll of a live operation failed" if exchange.status else "a poll got no answer"
        session.ledger.failed(
            observed(
                Check.LIFECYCLE_POLL,
                exchange,
                severity=Severity.CRITICAL if five else Severity.HIGH,
                title=title,
                expected="2xx with a JSON body",
                target=job.label,
            )
        )
        job.errors += 1
        if job.errors >= MAX_POLL_ERRORS:
            job.done = True
            session.ledger.skipped(Check.LIFECYCLE_FINISHES, job.label, f"gave up after {MAX_POLL_ERRORS} failed polls")
        _schedule(session, job)
        return
    job.errors = 0
    _judge_echo(session, job, exchange, body)
    state = classify(session.read, body)
    if state is None:
        title = "the poll answer matches no state rule of the dialect"
        session.ledger.failed(
            observed(
                Check.LIFECYCLE_POLL,
                exchange,
                severity=Severity.HIGH,
                title=title,
                expected="a body one of read.states recognises",
                target=job.label,
            )
        )
        _timeout_or_schedule(session, job, exchange, "unrecognised", elapsed)
        return
    session.ledger.passed(Check.LIFECYCLE_POLL, job.label)
    job.states.append(state)
    session.observer.job(job.label, state, elapsed)
    if ORDER[state] < job.rank:
        title = f"the state moved backwards: {' -> '.join(job.states[-2:])}"
        session.ledger.failed(
            observed(
                Check.LIFECYCLE_MONOTONIC,
                exchange,
                severity=Severity.HIGH,
                title=title,
                expected=f"no state before {job.states[-2]}",
                target=job.label,
            )
        )
    else:
        session.ledger.passed(Check.LIFECYCLE_MONOTONIC, job.label)
    job.rank = max(job.rank, ORDER[state])
    if job.final is not None:
        _judge_repoll(session, job, exchange, state, body)
    elif state in TERMINAL:
        job.final = state
        job.outcome = _outcome(session, job, state, body)
        session.ledger.passed(Check.LIFECYCLE_FINISHES, job.label)
        job.result_urls = judge_results(
            session, job.label, purpose=job.purpose, expect=job.expect, state=state, body=body, poll=exchange, handle=job.handle
        )
        job.interval = session.config.poll_interval
        _schedule(session, job)
    else:
        _timeout_or_schedule(session, job, exchange, state, elapsed)


def _record(job: Job, exchange: Exchange, body: Any, session: Session) -> None:
    if exchange.status is None:
        said = "no answer"
    elif body is MISSING:
        said = f"HTTP {exchange.status}"
    else:
        said = classify(session.read, body) or "unrecognised"
    job.polls.append(Poll(max(0.0, exchange.at - job.created_at), said, exchange.elapsed_ms))


def _timeout_or_schedule(session: Session, job: Job, exchange: Exchange, state: str, elapsed: float) -> None:
    if elapsed >= session.config.timeout:
        title = f"still {state} after {elapsed:.0f} s (--timeout {session.config.timeout:g})"
        session.ledger.failed(
            observed(Check.LIFECYCLE_FINISHES, exchange, severity=Severity.HIGH, title=title, expected="a terminal state", target=job.label)
        )
        job.done = True
        return
    _schedule(session, job)


def _judge_literal(session: Session, job: Job, exchange: Exchange) -> None:
    if exchange.status is not None and 200 <= exchange.status < 300:
        session.ledger.passed(Check.INPUT_LITERAL_PATH, job.label)
        return
    title = "the poll path with the handle's slashes sent literally is not served"
    session.ledger.failed(
        observed(Check.INPUT_LITERAL_PATH, exchange, severity=Severity.HIGH, title=title, expected="2xx", target=job.label)
    )


def _judge_echo(session: Session, job: Job, exchange: Exchange, body: Any) -> None:
    pointer = session.read.echo
    if pointer is None:
        return
    echoed = pointer.get(body)
    if echoed == job.handle:
        session.ledger.passed(Check.LIFECYCLE_ECHO, job.label)
        return
    shown = "nothing" if echoed is MISSING else repr(echoed)
    title = f"the poll echoed {shown} at {pointer.text}, not the handle asked for"
    session.ledger.failed(
        observed(Check.LIFECYCLE_ECHO, exchange, severity=Severity.HIGH, title=title[:200], expected=repr(job.handle), target=job.label)
    )


def _outcome(session: Session, job: Job, state: str, body: Any) -> tuple[Any, ...]:
    """What must not change between polls of a finished operation (URLs may be re-signed)."""
    refs = results_of(session.read, body, handle=job.handle) or []
    return (state, len(refs), session.read.error.get(body) is not MISSING)


def _judge_repoll(session: Session, job: Job, exchange: Exchange, state: str, body: Any) -> None:
    outcome = _outcome(session, job, state, body)
    if outcome == job.outcome:
        session.ledger.passed(Check.LIFECYCLE_STABLE, job.label)
    else:
        assert job.outcome is not None
        was = f"{job.outcome[0]} with {job.outcome[1]} result(s)"
        now = f"{outcome[0]} with {outcome[1]} result(s)"
        failure = observed(
            Check.LIFECYCLE_STABLE,
            exchange,
            severity=Severity.HIGH,
            title=f"a finished operation changed: {was}, then {now}",
            expected=was,
            target=job.label,
        )
        session.ledger.failed(failure)
    job.repolls += 1
    if job.repolls >= REPOLLS:
        job.done = True
        session.observer.job(job.label, job.final or state, session.clock.now() - job.created_at)
    else:
        _schedule(session, job)


@phase(30, "creating the success path")
def _success_path(run: Run) -> None:
    run.first = start_job(run.session, "job#1", "success", run.example.json)
    if run.first is not None:
        run.jobs.append(run.first)


@phase(60, "the failure probe and an edge sample")
def _extra_creates(run: Run) -> None:
    session = run.session
    extras: list[tuple[str, object]] = []
    if session.config.failure_suffix:
        extras.append(("failure", create_request(session.dialect, prompt_suffix=session.config.failure_suffix).json))
    else:
        session.notes.append("no failure probe: pass --failure-suffix with the text that makes the target fail a job")
    sample = edge_sample(session.dialect, session.create_op)
    if sample is not None:
        extras.append(("sample", sample))
    for purpose, body in extras:
        if session.budget.left <= 0:
            session.notes.append(f"no create left for the {purpose} probe (--max-creates {session.config.max_creates})")
            continue
        job = start_job(session, f"job#{len(run.jobs) + 1}", purpose, body)
        if job is not None:
            run.jobs.append(job)


@phase(70, "polling")
def _polling(run: Run) -> None:
    poll_until_done(run.session, run.jobs)
