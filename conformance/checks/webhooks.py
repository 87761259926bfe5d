"""Webhooks and callbacks, judged from what reached the kit's receiver (``--webhook-listen``).

The kit puts the receiver's URL where the create documents a callback URL; for
webhooks configured out of band, the user points the target at the receiver. Once
the jobs are done, it waits up to ``--webhook-wait`` for the events their final
states call for, then judges every delivery about one of its jobs: signed as the
document says (Standard Webhooks), shaped as the event's documented schema, and
announcing a state the job's polls showed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jsonschema_rs

from conformance.catalog import Check
from conformance.checks.lifecycle import Job
from conformance.failures import Failure, Severity
from conformance.phases import Run, phase
from conformance.receiver import Delivery
from conformance.session import Session
from videogen.dialect import Event
from videogen.reading import classify
from videogen.states import READS_AS, TERMINAL

__all__ = ["standard_signature_valid"]

TOLERANCE_S = 300  # Standard Webhooks' window for webhook-timestamp


def standard_signature_valid(secret: str, headers: dict[str, str], body: bytes, now: float) -> str | None:
    """None when a Standard Webhooks signature verifies; else what is wrong with it."""
    missing = [h for h in ("webhook-id", "webhook-timestamp", "webhook-signature") if h not in headers]
    if missing:
        return f"no {', '.join(missing)} header"
    stamp = headers["webhook-timestamp"]
    if not (stamp.isascii() and stamp.isdigit()) or abs(now - int(stamp)) > TOLERANCE_S:
        return f"webhook-timestamp {stamp!r} is not within {TOLERANCE_S} s of now"
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    digest = hmac.new(key, f"{headers['webhook-id']}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    offered = [s.partition(",")[2] or s for s in headers["webhook-signature"].split()]
    if not any(hmac.compare_digest(expected, s) for s in offered):
        return "the signature does not match the body under the secret"
    return None


def _failure(check: Check, delivery: Delivery, *, severity: Severity, title: str, expected: str, target: str) -> Failure:
    excerpt = delivery.body[:400].decode("utf-8", "replace")
    return Failure(check, target, severity, title[:300], expected, f"POST {delivery.path}: {excerpt}", f"POST {delivery.path}")


def _events_of(session: Session, delivery: Delivery, body: Any) -> list[Event]:
    """The events a delivery can be: by its name in the body, else by the states it reads as."""
    events = list(session.dialect.events)
    named = [e for e in events if e.name in _strings(body)]
    if named:
        return named
    state = classify(session.read, body)
    if state is None:
        return []
    return [e for e in events if any(state in READS_AS[s] for s in e.on)]


def _strings(node: Any) -> set[str]:
    if isinstance(node, str):
        return {node}
    if isinstance(node, dict):
        return set().union(*(_strings(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_strings(v) for v in node)) if node else set()
    return set()


def _expected(session: Session, job: Job) -> list[Event]:
    """The events the job's final state calls for (intermediate states may be skipped by a fast job)."""
    final = job.final
    if final is None:
        return []
    return [e for e in session.dialect.events if any(final in READS_AS[s] and s in TERMINAL for s in e.on)]


@phase(88, "webhooks and callbacks")
def _webhooks(run: Run) -> None:
    session = run.session
    receiver = session.receiver
    events = session.dialect.events
    if not events:
        return
    if receiver is None:
        for check in (Check.WEBHOOK_DELIVERED, Check.WEBHOOK_SIGNED, Check.WEBHOOK_SCHEMA, Check.WEBHOOK_AGREES):
            session.ledger.skipped(check, "(events)", "pass --webhook-listen HOST:PORT to receive and judge the target's events")
        return
    jobs = [j for j in run.jobs if j.final is not None]
    deadline = session.clock.now() + session.config.webhook_wait
    while session.clock.now() < deadline and not all(_arrived(receiver.received, j, _expected(session, j)) for j in jobs):
        session.clock.sleep(0.2)
    for job in jobs:
        _judge_job(session, job, receiver.received)


def _agrees(states: tuple[str, ...], job: Job) -> bool:
    """An event agrees with what the polls saw: its state was seen, or it is a pending state (queued,
    running) the polls may have missed between two of them; a terminal state must be the one polled."""
    seen = set(job.states)
    return any(any(read in READS_AS[s] for read in seen) or (s not in TERMINAL and job.final is not None) for s in states)


def _about(deliveries: list[Delivery], job: Job) -> list[Delivery]:
    return [d for d in deliveries if job.handle.encode() in d.body]


def _arrived(deliveries: list[Delivery], job: Job, expected: list[Event]) -> bool:
    return len(_about(deliveries, job)) >= min(1, len(expected))


def _judge_job(session: Session, job: Job, deliveries: list[Delivery]) -> None:
    ledger = session.ledger
    mine = _about(deliveries, job)
    expected = _expected(session, job)
    if expected and not mine:
        where = (
            "the callback URL the kit sent"
            if any(e.url is not None for e in expected)
            else "the receiver (is the target's webhook endpoint set to it?)"
        )
        names = ", ".join(e.name for e in expected)
        ledger.failed(
            Failure(
                Check.WEBHOOK_DELIVERED,
                job.label,
                Severity.HIGH,
                f"no {names} event for a job that ended {job.final} reached {where} within {session.config.webhook_wait:g} s",
                f"a POST about {job.handle}",
                "nothing",
            )
        )
    elif expected:
        ledger.passed(Check.WEBHOOK_DELIVERED, job.label)
    config = session.dialect.webhook_config
    secret = session.config.webhook_secret or config.secret
    for delivery in mine:
        try:
            body = json.loads(delivery.body)
        except ValueError:
            ledger.failed(
                _failure(
                    Check.WEBHOOK_SCHEMA,
                    delivery,
                    severity=Severity.HIGH,
                    title="a delivery is not JSON",
                    expected="a JSON body",
                    target=job.label,
                )
            )
            continue
        if config.signing == "standard-webhooks":
            problem = (
                standard_signature_valid(secret, delivery.headers, delivery.body, delivery.at) if secret else "no secret to verify it with"
            )
            if problem is None:
                ledger.passed(Check.WEBHOOK_SIGNED, job.label)
            elif secret:
                ledger.failed(
                    _failure(
                        Check.WEBHOOK_SIGNED,
                        delivery,
                        severity=Severity.HIGH,
                        title=problem,
                        expected="a valid Standard Webhooks signature",
                        target=job.label,
                    )
                )
            else:
                ledger.skipped(Check.WEBHOOK_SIGNED, job.label, "pass --webhook-secret to verify signatures")
        candidates = _events_of(session, delivery, body)
        schemas = [e.schema for e in candidates if e.schema] or [e.schema for e in session.dialect.events if e.schema]
        if schemas and not any(jsonschema_rs.validator_for(s).is_valid(body) for s in schemas):
            ledger.failed(
                _failure(
                    Check.WEBHOOK_SCHEMA,
                    delivery,
                    severity=Severity.HIGH,
                    title="a delivery's body matches no documented event schema",
                    expected="an event body as documented",
                    target=job.label,
                )
            )
        elif schemas:
            ledger.passed(Check.WEBHOOK_SCHEMA, job.label)
        if not candidates:
            ledger.skipped(Check.WEBHOOK_AGREES, job.label, "the delivery names no event the document declares")
            continue
        if any(_agrees(e.on, job) for e in candidates):
            ledger.passed(Check.WEBHOOK_AGREES, job.label)
        else:
            names = ", ".join(sorted({e.name for e in candidates}))
            title = f"a {names} event arrived for a job whose polls showed only {', '.join(job.states) or 'nothing'}"
            ledger.failed(
                _failure(
                    Check.WEBHOOK_AGREES,
                    delivery,
                    severity=Severity.HIGH,
                    title=title,
                    expected="an event for a state the polls showed, or a pending one they could have missed between them",
                    target=job.label,
                )
            )
