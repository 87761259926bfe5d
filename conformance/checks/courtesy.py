"""Courtesy under rate limits, judged from the 429s the client met.

The client already honours Retry-After (or backs off exponentially without one)
and gives up after a bounded number of retries, so the kit never hammers. Here
each 429 is judged: documented for its operation, with a usable Retry-After when
the document promises one, and lifting once the kit waited as asked.
"""

from __future__ import annotations

from conformance.catalog import Check
from conformance.failures import Severity, observed
from conformance.phases import Run, phase
from conformance.session import Session

__all__ = ["judge_throttles"]


def judge_throttles(session: Session) -> None:
    throttles = session.client.throttles
    if not throttles:
        for check in (Check.COURTESY_DOCUMENTED, Check.COURTESY_RETRY_AFTER):
            session.ledger.skipped(check, "(all operations)", "no 429 was received: nothing to judge")
        return
    for throttle in throttles:
        exchange = throttle.exchange
        op = exchange.operation
        target = exchange.target
        spec = op.response_for(429) if op is not None else None
        if spec is None:
            documented = ", ".join(sorted(op.responses)) if op is not None else "nothing"
            title = "an undocumented 429"
            session.ledger.failed(
                observed(
                    Check.COURTESY_DOCUMENTED,
                    exchange,
                    severity=Severity.MEDIUM,
                    title=title,
                    expected=f"a documented status ({documented})",
                )
            )
        else:
            session.ledger.passed(Check.COURTESY_DOCUMENTED, target)
        raw = exchange.headers.get("retry-after")
        promised = spec is not None and any(name.lower() == "retry-after" for name in spec.headers)
        if raw is not None and throttle.retry_after is None:
            title = f"Retry-After {raw!r} is neither seconds nor an HTTP date"
            session.ledger.failed(
                observed(Check.COURTESY_RETRY_AFTER, exchange, severity=Severity.LOW, title=title, expected="Retry-After: <seconds>")
            )
        elif raw is None and promised:
            title = "a 429 without the Retry-After header its documentation describes"
            session.ledger.failed(
                observed(Check.COURTESY_RETRY_AFTER, exchange, severity=Severity.LOW, title=title, expected="Retry-After: <seconds>")
            )
        elif throttle.gave_up and throttle.retry_after is not None and throttle.retry_after > session.client.max_wait:
            limit = session.client.max_wait
            reason = f"the target asked to wait {throttle.retry_after:g} s, longer than the kit waits ({limit:g} s); rerun later"
            session.ledger.skipped(Check.COURTESY_RETRY_AFTER, target, reason)
            session.notes.append(reason)
        elif throttle.gave_up:
            waited = f"after waiting {throttle.retry_after:g} s as asked" if throttle.retry_after is not None else "after backing off"
            title = f"still 429 {waited}; the kit stopped retrying"
            session.ledger.failed(
                observed(
                    Check.COURTESY_RETRY_AFTER,
                    exchange,
                    severity=Severity.MEDIUM,
                    title=title,
                    expected="the limit lifts once Retry-After has passed",
                )
            )
        else:
            session.ledger.passed(Check.COURTESY_RETRY_AFTER, target)


@phase(90, "judging the 429s met")
def _throttles(run: Run) -> None:
    judge_throttles(run.session)
