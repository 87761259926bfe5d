"""Cost and courtesy, measured on the server's side of the wire."""

from __future__ import annotations

import itertools

import pytest

from mockserver.testing import MockVideoAPI
from tests.conformance.conftest import DIALECTS, run_kit
from tests.conformance.corpus import accepts_invalid, throttled_once
from tests.conformance.faulty import Answer, Call, Hooks


def accept_everything_counting(name: str, accepted: list[str]) -> Hooks:
    """A server that accepts any create, keyed or not, valid or not: the worst case for the budget."""
    lenient = accepts_invalid(DIALECTS[name])

    def before(call: Call) -> Call | Answer:
        assert lenient.before is not None
        step = lenient.before(call)
        if isinstance(step, Answer) or step.headers.get("authorization") or step.headers.get("x-goog-api-key"):
            return step
        anonymous = {**step.headers, "authorization": "Bearer anonymous", "x-goog-api-key": "anonymous"}
        return Call(step.method, step.path, step.query, anonymous, step.body, step.role)

    def after(call: Call, answer: Answer) -> Answer:
        if call.role == "create" and 200 <= answer.status < 300:
            accepted.append(call.path)
        return answer

    return Hooks(before=before, after=after)


@pytest.mark.parametrize("max_creates", [0, 1, 2, 3])
@pytest.mark.parametrize("name", ["openai", "gemini"])  # creates their vendors publish: the kit probes them
def test_creates_never_exceed_the_budget_even_when_the_server_accepts_everything(name: str, max_creates: int) -> None:
    accepted: list[str] = []
    report = run_kit(name, accept_everything_counting(name, accepted), max_creates=max_creates, failure_suffix=" [mock:fail]")
    assert len(accepted) == report.creates_spent <= max_creates
    if max_creates >= 2:
        assert {"input.invalid_rejected", "auth.missing_key"} & report.failed_checks
    if max_creates:
        assert report.unexpected_creates == max_creates - 1  # everything after the success path was a probe it should refuse


def test_a_documented_429_is_honoured_before_the_retry() -> None:
    log: list[tuple[str, str]] = []
    times: list[float] = []
    with MockVideoAPI(seed=2) as mock:
        hooks = throttled_once(DIALECTS["gemini"], status_body={"error": {"code": 429, "message": "slow down"}}, retry_after="5", log=log)
        original = hooks.before
        assert original is not None

        def before(call: Call) -> Call | Answer:
            result = original(call)
            if call.role == "poll" and log and log[-1][0] in call.path:
                times.append(mock.clock.now())
            return result

        hooks.before = before
        report = run_kit("gemini", hooks, mock=mock, max_creates=1)
    assert report.conforms, report.summary()
    assert len(times) >= 2 and times[1] - times[0] >= 5.0, times
    courtesy = {c.check: c.status.value for c in report.cases if c.check.startswith("courtesy.")}
    assert courtesy == {"courtesy.documented": "passed", "courtesy.retry_after": "passed"}


def test_a_server_that_never_lifts_its_limit_is_reported_not_hammered() -> None:
    sent: list[float] = []
    with MockVideoAPI(seed=2) as mock:

        def before(call: Call) -> Call | Answer:
            if call.role == "poll":
                sent.append(mock.clock.now())
                return Answer.of_json(
                    429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}, {"retry-after": "3"}
                )
            return call

        report = run_kit("gemini", Hooks(before=before), mock=mock, max_creates=0, fuzz_examples=0)
    assert "courtesy.retry_after" in report.failed_checks
    gaps = [b - a for a, b in itertools.pairwise(sent) if b - a > 0]
    assert all(gap >= 3.0 for gap in gaps), gaps
    assert len(sent) <= 4 * 8  # a bounded number of tries per request, whatever the server says
