"""Clocks. The simulator never reads time itself: it is handed a clock.

An operation's state is a pure function of (record, ``clock.now()``), so moving
a clock moves every operation at once, with no background ticker. Following
time-machine, the clocks compute the current time from a start point plus an
offset instead of counting ticks, and nothing patches time globally.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock", "VirtualClock"]


@runtime_checkable
class Clock(Protocol):
    """What the simulator needs: seconds since the epoch, and a way to move forward."""

    def now(self) -> float: ...

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (>= 0); returns the new ``now()``."""
        ...


class VirtualClock:
    """Wall-clock time plus an offset that the control API can move forward."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; got {seconds} seconds")
        with self._lock:
            self._offset += seconds
        return self.now()

    @property
    def offset(self) -> float:
        return self._offset

    def set_offset(self, offset: float) -> None:
        """Adopt an offset shared by another process (see the Redis store)."""
        self._offset = offset


SystemClock = VirtualClock  # an unmoved virtual clock is the system clock


class FakeClock:
    """A clock that stands still until told to move: for tests, never sleeps."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; got {seconds} seconds")
        self._now += seconds
        return self._now
