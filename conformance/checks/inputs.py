"""Input handling: generated valid inputs are answered, invalid ones are refused with a 4xx.

Reads (poll, download) are fuzzed with schemathesis in both modes: they cost
nothing. Invalid creates (named mutations of the example first, then schemathesis'
negative cases) are sent only while the budget could absorb one being wrongly
accepted, because a server that accepts it starts a paid job.
"""

from __future__ import annotations

from conformance.catalog import Check
from conformance.exchange import Exchange
from conformance.failures import Severity, observed
from conformance.generation import Generator, Probe
from conformance.mutations import mutations
from conformance.phases import Run, phase
from conformance.session import Session
from conformance.wire import WireValidator
from videogen.dialect import Operation
from videogen.reading import create_request

__all__ = ["fuzz_reads", "invalid_creates"]


def _free(op: Operation) -> bool:
    """Reads cost nothing; an operation the vendor never published is never probed."""
    return not op.choice and (op.role in ("poll", "download", "list") or (op.role is None and op.method == "GET"))


def fuzz_reads(session: Session, generator: Generator) -> None:
    """Valid and invalid generated requests for every operation that costs nothing."""
    count = session.config.fuzz_examples
    for op in session.dialect.operations:
        if not _free(op) or count == 0:
            continue
        validator = WireValidator(op)
        for mode in ("positive", "negative"):
            for probe in generator.probes(op, mode, count):
                broken = validator.violations(probe.path, probe.query, probe.headers, probe.body)
                if bool(broken) != (mode == "negative"):
                    continue  # the wire form is not what the mode meant: no verdict is fair
                exchange = _send(session, probe)
                if mode == "positive":
                    _judge_valid(session, exchange, probe)
                else:
                    _judge_invalid(session, exchange, probe, broken[0], paid=False)


def invalid_creates(session: Session, generator: Generator) -> None:
    """Named mutations of the example, then schemathesis' negative creates, within the budget."""
    op = session.create_op
    if op.choice:
        session.ledger.skipped(
            Check.INPUT_INVALID_REJECTED, op.operation_id, "the create is the mock's choice, not published by the vendor"
        )
        return
    validator = WireValidator(op)
    request = create_request(session.dialect)
    probes = [
        Probe(
            op, m.label, op.method, request.path, {**dict(op.headers), "content-type": "application/json"}, m.body, request.path_params, {}
        )
        for m in mutations(op.body_schema, session.read.example)
    ]
    probes += generator.probes(op, "negative", session.config.fuzz_examples)
    sent = 0
    for probe in probes:
        broken = validator.violations(probe.path, probe.query, probe.headers, probe.body)
        if not broken:
            continue
        if sent >= session.config.max_invalid_creates:
            break
        if session.budget.left <= 0:
            reason = "no create left in --max-creates to absorb an invalid create the server might accept"
            session.ledger.skipped(Check.INPUT_INVALID_REJECTED, op.operation_id, reason)
            session.notes.append(f"invalid creates stopped after {sent}: {reason}")
            return
        sent += 1
        exchange = _send(session, probe)
        _judge_invalid(session, exchange, probe, broken[0], paid=True)


def _send(session: Session, probe: Probe) -> Exchange:
    return session.send(
        probe.method, probe.target, key=session.config.api_key, op=probe.op, headers=probe.headers, content=probe.body, complete=True
    )


def _judge_valid(session: Session, exchange: Exchange, probe: Probe) -> None:
    target = probe.op.operation_id
    if exchange.status is not None and exchange.status < 500:
        session.ledger.passed(Check.INPUT_VALID_ACCEPTED, target)
        return
    title = f"a valid {probe.label} request got a server error" if exchange.status else f"a valid {probe.label} request got no answer"
    session.ledger.failed(
        observed(Check.INPUT_VALID_ACCEPTED, exchange, severity=Severity.CRITICAL, title=title, expected="a documented answer, not a 5xx")
    )


def _judge_invalid(session: Session, exchange: Exchange, probe: Probe, why: str, *, paid: bool) -> None:
    status = exchange.status
    if status is not None and 400 <= status < 500:
        session.ledger.passed(Check.INPUT_INVALID_REJECTED, probe.op.operation_id)
        return
    label = probe.label if probe.label.startswith("schemathesis") else f"invalid input ({probe.label})"
    if status is not None and 200 <= status < 300:
        if paid:
            session.budget.spend(unexpected=True)
        severity = Severity.CRITICAL if paid else Severity.HIGH
        title = f"{label} was accepted" + (" and a paid job started" if paid else "")
    elif status is None or status >= 500:
        severity, title = Severity.CRITICAL, f"{label} got a server error instead of a 4xx"
    else:
        severity, title = Severity.HIGH, f"{label} got {status}, not a 4xx"
    session.ledger.failed(
        observed(Check.INPUT_INVALID_REJECTED, exchange, severity=severity, title=title[:200], expected=f"a documented 4xx ({why[:150]})")
    )


@phase(20, "fuzzing the free operations")
def _fuzz_reads(run: Run) -> None:
    fuzz_reads(run.session, run.generator)


@phase(50, "invalid creates")
def _invalid_creates(run: Run) -> None:
    invalid_creates(run.session, run.generator)
