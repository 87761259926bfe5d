"""The lifecycle: plan an operation at create time, derive its state at any time.

``state_at(record, now)`` is a pure function; there is no ticker and no stored
"current state". Internal states advance in one direction only:

    queued -> running -> succeeded | failed | filtered | cancelled

The vocabulary is :mod:`videogen.states`. The scenario (from a ``[mock:...]`` prompt directive or the ``X-Mock-Scenario``
header) picks the outcome and the pace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from mockserver.record import OperationRecord
from videogen.errors import VideogenError

__all__ = [
    "SCENARIOS",
    "Scenario",
    "ScenarioError",
    "Snapshot",
    "parse_scenario",
    "state_at",
    "timeline",
]

# name -> (outcome or None, pace multiplier or None)
SCENARIOS: Final[dict[str, tuple[str | None, float | None]]] = {
    "succeed": ("succeeded", None),
    "success": ("succeeded", None),
    "fail": ("failed", None),
    "failed": ("failed", None),
    "filtered": ("filtered", None),
    "filter": ("filtered", None),
    "never": ("never", None),
    "slow": (None, 10.0),
    "fast": (None, 0.1),
    "instant": (None, 0.0),
}
_DIRECTIVE = re.compile(r"\[mock:([^\]]*)\]")


class ScenarioError(VideogenError, ValueError):
    """An unknown scenario name; the message lists the known ones."""


@dataclass(frozen=True, slots=True)
class Scenario:
    outcome: str | None = None  # None: the dialect's default (success)
    pace: float = 1.0


def parse_scenario(prompt: str | None, header: str | None) -> Scenario:
    """Combine the prompt's ``[mock:a,b]`` directives and the header; the header wins."""
    names: list[str] = []
    if prompt and "[mock:" in prompt:
        for m in _DIRECTIVE.finditer(prompt):
            names.extend(m.group(1).split(","))
    if header:
        names.extend(header.split(","))
    outcome: str | None = None
    pace = 1.0
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if name not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise ScenarioError(f"unknown mock scenario {name!r}; expected one of: {known}")
        o, p = SCENARIOS[name]
        outcome = o or outcome
        pace = p if p is not None else pace
    return Scenario(outcome, pace)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a poll shows at one instant."""

    state: str
    progress: int  # 0..100
    since: float  # when this state began (clock seconds)


def state_at(record: OperationRecord, now: float) -> Snapshot:
    """The state of ``record`` at time ``now``: a pure function of its arguments."""
    if record.forced_state is not None and record.forced_at is not None and now >= record.forced_at:
        return Snapshot(record.forced_state, 100, record.forced_at)
    # Absolute times, computed as timeline() computes them, so the two agree to the last bit.
    started = record.created_at + record.queued_s
    if now < started:
        return Snapshot("queued", 0, record.created_at)
    ended = started + record.running_s
    if record.outcome == "never" or now < ended:
        fraction = (now - started) / record.running_s if record.running_s > 0 else 0.0
        # Clamped before int(): a vanishingly short run (or "never" past it) divides to inf.
        return Snapshot("running", int(min(max(fraction, 0.0), 0.99) * 100), started)
    return Snapshot(record.outcome, 100, ended)


def timeline(record: OperationRecord) -> list[tuple[str, float]]:
    """Each state the record enters and when, in order (a pure function, like ``state_at``).

    What ``state_at`` would answer at any time is the last entry at or before it;
    webhooks are planned from this, and the inspector draws it.
    """
    started = record.created_at + record.queued_s
    steps = [("queued", record.created_at), ("running", started)]
    if record.outcome != "never":
        steps.append((record.outcome, started + record.running_s))
    if record.forced_state is not None and record.forced_at is not None:
        steps = [(state, at) for state, at in steps if at < record.forced_at or (at == record.forced_at and state == "queued")]
        steps.append((record.forced_state, record.forced_at))
    return steps
