"""The outcome of a run: every case, the scores, what it cost; rendered to JSON here.

A category's score is the share of its judged cases that passed (skipped cases
are not judged); the overall score is the mean of the category scores, so one
busy category cannot drown the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.catalog import CATEGORIES, CHECKS, category_of
from conformance.failures import CaseResult, Failure, Status

__all__ = ["JobSummary", "Media", "Poll", "Report"]


@dataclass(frozen=True, slots=True)
class Poll:
    """One poll of a job: when (seconds after its create, on the kit's clock), what it said, how long it took."""

    at_s: float
    state: str  # a lifecycle state, or what came instead ("HTTP 500", "no answer", "unrecognised")
    latency_ms: float


@dataclass(frozen=True, slots=True)
class Media:
    """One result the kit opened: its size in bytes, what FFmpeg read, and a poster frame (PNG)."""

    index: int
    size: int
    codec: str
    width: int
    height: int
    duration_s: float
    frames: int
    poster: bytes | None = None


@dataclass(frozen=True, slots=True)
class JobSummary:
    label: str
    purpose: str
    handle: str
    states: tuple[str, ...]
    final: str | None
    create_ms: float = 0.0
    polls: tuple[Poll, ...] = ()
    media: tuple[Media, ...] = ()


@dataclass(frozen=True)
class Report:
    spec: str
    title: str
    base_url: str
    cases: tuple[CaseResult, ...]
    creates_spent: int
    max_creates: int
    unexpected_creates: int = 0
    requests: int = 0
    duration_s: float = 0.0
    started_at: str = ""
    jobs: tuple[JobSummary, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    stopped: str | None = None  # why the run ended before its last phase (its budget, a silent target)

    @property
    def conforms(self) -> bool:
        """True when no check failed and the run finished (skipped checks do not count against it)."""
        return self.stopped is None and not any(case.status is Status.FAILED for case in self.cases)

    @property
    def failures(self) -> list[Failure]:
        return [f for case in self.cases for f in case.failures]

    @property
    def failed_checks(self) -> set[str]:
        return {case.check for case in self.cases if case.status is Status.FAILED}

    @property
    def verdict(self) -> str:
        if self.conforms:
            return "conforms"
        if self.stopped and not self.failures:
            return "NOT shown to conform (the run stopped early)"
        return f"does NOT conform ({len(self.failures)} failure(s))"

    def failures_by_check(self) -> dict[str, list[Failure]]:
        out: dict[str, list[Failure]] = {}
        for failure in self.failures:
            out.setdefault(failure.check, []).append(failure)
        return out

    def scores(self) -> dict[str, float | None]:
        """Per category: percent of judged cases that passed; None when nothing was judged."""
        out: dict[str, float | None] = {}
        for category in CATEGORIES:
            judged = [c for c in self.cases if category_of(c.check) == category and c.status is not Status.SKIPPED]
            passed = sum(c.status is Status.PASSED for c in judged)
            out[category] = round(100.0 * passed / len(judged), 1) if judged else None
        return out

    @property
    def score(self) -> float | None:
        judged = [s for s in self.scores().values() if s is not None]
        return round(sum(judged) / len(judged), 1) if judged else None

    def summary(self) -> str:
        """A few lines of plain text: the verdict, the cost, each failure."""
        lines = [f"{self.base_url} ({self.spec}) {self.verdict}; score {self.score}; creates spent {self.creates_spent}/{self.max_creates}"]
        if self.stopped:
            lines.append(f"  stopped early: {self.stopped}")
        for f in self.failures:
            lines.append(f"  [{f.severity.value}] {f.check} {f.target}: {f.title}")
            lines.append(f"      expected: {f.expected}")
            lines.append(f"      got:      {f.got}")
            if f.curl:
                lines.append(f"      repro:    {f.curl}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "title": self.title,
            "base_url": self.base_url,
            "conforms": self.conforms,
            "stopped": self.stopped,
            "score": self.score,
            "scores": self.scores(),
            "creates": {"spent": self.creates_spent, "max": self.max_creates, "unexpected": self.unexpected_creates},
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "started_at": self.started_at,
            "jobs": [
                {
                    "label": j.label,
                    "purpose": j.purpose,
                    "handle": j.handle,
                    "states": list(j.states),
                    "final": j.final,
                    "create_ms": round(j.create_ms, 1),
                    "polls": [{"at_s": round(p.at_s, 3), "state": p.state, "latency_ms": round(p.latency_ms, 1)} for p in j.polls],
                    "media": [
                        {k: getattr(m, k) for k in ("index", "size", "codec", "width", "height", "duration_s", "frames")} for m in j.media
                    ],
                }
                for j in self.jobs
            ],
            "cases": [
                {
                    "check": c.check,
                    "title": CHECKS[c.check].title,
                    "target": c.target,
                    "status": c.status.value,
                    "passes": c.passes,
                    "note": c.note,
                    "failures": [_failure(f) for f in c.failures],
                }
                for c in self.cases
            ],
            "notes": list(self.notes),
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _failure(f: Failure) -> dict[str, Any]:
    return {
        "check": f.check,
        "target": f.target,
        "severity": f.severity.value,
        "title": f.title,
        "expected": f.expected,
        "got": f.got,
        "request": f.request,
        "curl": f.curl,
        "occurrences": f.occurrences,
    }
