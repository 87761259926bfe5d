"""What every request handler shares: the store, the clock, the config and the simulators.

The app builds one :class:`Runtime` and hangs it off ``app.state``; there are no
module-level globals.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from mockserver.clock import Clock, VirtualClock
from mockserver.config import MockConfig
from mockserver.faults import FaultInjector
from mockserver.simulator import Simulator
from mockserver.store import Store
from videogen.dialect import Dialect

__all__ = ["Runtime"]


@dataclass
class Runtime:
    dialects: dict[str, Dialect]
    store: Store
    clock: Clock
    config: MockConfig
    rng: random.Random
    simulators: dict[str, Simulator] = field(default_factory=dict)
    shares_clock: bool = False
    faults: FaultInjector = field(default_factory=FaultInjector)
    requests: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (dialect, operation, status) -> count

    def __post_init__(self) -> None:
        seed = self.config.fault_seed if self.config.fault_seed is not None else self.config.seed
        self.faults = FaultInjector(self.config.faults, seed)
        self.shares_clock = isinstance(self.clock, VirtualClock) and bool(getattr(self.store, "shared", False))
        for name, dialect in self.dialects.items():
            self.simulators[name] = Simulator(dialect, rng=self.rng, time_scale=self.config.time_scale)

    async def now(self) -> float:
        """The clock's time. With a shared store, the virtual clock's offset is read from
        the store, so every worker and replica agrees on what time it is."""
        if self.shares_clock:
            assert isinstance(self.clock, VirtualClock)
            self.clock.set_offset(await self.store.get_clock_offset())
        return self.clock.now()

    async def advance_clock(self, seconds: float) -> None:
        """Move the virtual clock forward; every operation moves with it."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; got {seconds} seconds")
        if self.shares_clock:
            assert isinstance(self.clock, VirtualClock)
            self.clock.set_offset(await self.store.advance_clock_offset(seconds))
        else:
            self.clock.advance(seconds)
