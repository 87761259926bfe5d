"""The lifecycle's vocabulary, defined once: internal states, the names a client reads, their order.

An operation moves one way only::

    queued -> running -> succeeded | failed | filtered | cancelled

The mock derives these from (record, clock); a dialect's ``read.states`` rules turn
a vendor's poll answer back into them. A client cannot always tell every state
apart, so a rule may name a coarser one: ``pending`` is queued-or-running, and a
vendor without a word for a safety block or a cancellation reports it as a failure.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "FORCEABLE",
    "ORDER",
    "READS_AS",
    "READ_STATES",
    "STATES",
    "TERMINAL",
    "reads_as",
]

STATES: Final = ("queued", "running", "succeeded", "failed", "filtered", "cancelled")
TERMINAL: Final = frozenset({"succeeded", "failed", "filtered", "cancelled"})
# What the control API may force an operation into (forward only).
FORCEABLE: Final = ("running", "succeeded", "failed", "filtered", "cancelled")
# The names a dialect's read.states rules may give.
READ_STATES: Final = ("pending", *STATES)
# Where each name sits on the one-way path, for "never goes backwards".
ORDER: Final = {"pending": 0, "queued": 0, "running": 1, "succeeded": 2, "failed": 2, "filtered": 2, "cancelled": 2}
# How each internal state may legitimately read on the wire.
READS_AS: Final = {
    "queued": frozenset({"queued", "pending"}),
    "running": frozenset({"running", "pending"}),
    "succeeded": frozenset({"succeeded"}),
    "failed": frozenset({"failed"}),
    "filtered": frozenset({"filtered", "failed"}),
    "cancelled": frozenset({"cancelled", "failed"}),
}


def reads_as(state: str, read: str | None) -> bool:
    """Whether a poll that a client reads as ``read`` is a faithful view of internal ``state``."""
    return read is not None and read in READS_AS[state]
