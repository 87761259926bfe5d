"""Failures are data: each says which check, how bad, what was expected, what came back,
and how to reproduce it. Reports, JUnit and JSON all render these records.

A *case* is one check judged against one target (an API operation such as
``getOperation``, or a created job such as ``job#1``); it passes, fails or is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from conformance.catalog import CHECKS
from conformance.exchange import Exchange

__all__ = ["CaseResult", "Failure", "Ledger", "Severity", "Status", "observed"]


class Severity(StrEnum):
    """How much a failure matters; any failure makes the run non-conforming."""

    CRITICAL = "critical"  # data leak, auth bypass, 5xx, money spent on an invalid request, hang
    HIGH = "high"  # a client following the contract breaks
    MEDIUM = "medium"  # a client following the contract is misled
    LOW = "low"  # a courtesy or hygiene issue


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Failure:
    """One finding: ``got`` is trimmed, ``curl`` reproduces it with the key redacted."""

    check: str
    target: str
    severity: Severity
    title: str
    expected: str
    got: str
    request: str = ""  # "METHOD url", redacted
    curl: str = ""
    occurrences: int = 1

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise ValueError(f"unknown check id {self.check!r}; known: {', '.join(CHECKS)}")

    @property
    def signature(self) -> tuple[str, str, str]:
        return (self.check, self.target, self.title)


def observed(check: str, exchange: Exchange, *, severity: Severity, title: str, expected: str, target: str | None = None) -> Failure:
    """A failure seen in one exchange, with what came back and a curl line that reproduces it."""
    return Failure(
        check,
        target or exchange.target,
        severity,
        title,
        expected,
        exchange.excerpt(),
        exchange.request_line(),
        exchange.curl(),
    )


@dataclass(slots=True)
class CaseResult:
    check: str
    target: str
    status: Status
    passes: int = 0
    failures: list[Failure] = field(default_factory=list)
    note: str = ""


class Ledger:
    """Collects verdicts while a run goes on; the same finding twice is counted, not repeated."""

    def __init__(self) -> None:
        self._cases: dict[tuple[str, str], CaseResult] = {}

    def _case(self, check: str, target: str) -> CaseResult:
        if check not in CHECKS:
            raise ValueError(f"unknown check id {check!r}")
        key = (check, target)
        if key not in self._cases:
            self._cases[key] = CaseResult(check, target, Status.SKIPPED)
        return self._cases[key]

    def passed(self, check: str, target: str) -> None:
        case = self._case(check, target)
        case.passes += 1
        if case.status is Status.SKIPPED:
            case.status = Status.PASSED
            case.note = ""

    def failed(self, failure: Failure) -> None:
        case = self._case(failure.check, failure.target)
        case.status = Status.FAILED
        case.note = ""
        for i, known in enumerate(case.failures):
            if known.signature == failure.signature:
                case.failures[i] = replace(known, occurrences=known.occurrences + 1)
                return
        case.failures.append(failure)

    def skipped(self, check: str, target: str, reason: str) -> None:
        case = self._case(check, target)
        if case.status is Status.SKIPPED and not case.note:
            case.note = reason

    def results(self) -> list[CaseResult]:
        order = {check: i for i, check in enumerate(CHECKS)}
        return sorted(self._cases.values(), key=lambda c: (order[c.check], c.target))

    def failures(self) -> Iterable[Failure]:
        for case in self.results():
            yield from case.failures
