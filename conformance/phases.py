"""The phases of a run, registered by the check modules themselves (as schemathesis' checks are).

A phase is ``(order, name, function(run))``. The runner imports
:mod:`conformance.checks`, which imports every check module; each registers its
phases with :func:`phase`. Adding a check touches one file.

The order is the order in which a run spends requests and creates: free reads
first, then one paid create, then probes that ride on it, then the polls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.generation import Generator
from conformance.session import Session
from videogen.reading import CreateRequest

if TYPE_CHECKING:
    from conformance.checks.lifecycle import Job

__all__ = ["Phase", "Run", "phase", "registered"]


@dataclass
class Run:
    """What the phases of one run share."""

    session: Session
    generator: Generator
    example: CreateRequest
    jobs: list[Job] = field(default_factory=list)
    first: Job | None = None  # the success path's job, once created


@dataclass(frozen=True, slots=True)
class Phase:
    order: int
    name: str
    run: Callable[[Run], None]


_PHASES: list[Phase] = []


def phase(order: int, name: str) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register ``function(run)`` as the phase ``name``, run in ascending ``order``."""

    def register(function: Callable[[Run], None]) -> Callable[[Run], None]:
        if any(p.order == order for p in _PHASES):
            raise ValueError(f"two phases share the order {order}")
        _PHASES.append(Phase(order, name, function))
        return function

    return register


def registered() -> list[Phase]:
    """Every phase, in order (the check modules are imported, so they have registered)."""
    import conformance.checks  # noqa: F401  (registers)

    return sorted(_PHASES, key=lambda p: p.order)
