"""What every request handler shares: the store, the clock, the config and the simulators.

The app builds one :class:`Runtime` and hangs it off ``app.state``; there are no
module-level globals.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from mockserver.auth import Owners
from mockserver.clock import Clock, VirtualClock
from mockserver.config import MockConfig
from mockserver.faults import FaultInjector
from mockserver.inspector import Exchanges
from mockserver.record import OperationRecord
from mockserver.signing import Signer
from mockserver.simulator import Simulator
from mockserver.store import Store
from mockserver.webhooks import plan
from videogen.dialect import Dialect

__all__ = ["Runtime"]

log = logging.getLogger("videogen.store")


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
    webhooks: dict[tuple[str, str], int] = field(default_factory=dict)  # (dialect, outcome) -> webhook attempts
    created: dict[tuple[str, str], int] = field(default_factory=dict)  # (dialect, planned outcome) -> creates answered
    _signer: Signer | None = None
    owners: Owners | None = None  # key -> owner digests, once the salt is loaded (load_owners)
    wake_deliverer: Callable[[], None] = lambda: None  # the app's Deliverer sets this: look for due deliveries now
    exchanges: Exchanges = field(default_factory=Exchanges)  # the last request and answer per operation, for the inspector
    store_down: bool = False  # an outage is on: one log line when it starts, one when it ends

    def __post_init__(self) -> None:
        seed = self.config.fault_seed if self.config.fault_seed is not None else self.config.seed
        self.faults = FaultInjector(self.config.faults, seed)
        self.shares_clock = isinstance(self.clock, VirtualClock) and bool(getattr(self.store, "shared", False))
        for name, dialect in self.dialects.items():
            self.simulators[name] = Simulator(dialect, rng=self.rng, time_scale=self.config.time_scale)

    def store_outage(self, exc: BaseException) -> None:
        """The store failed: say so once per outage, not once per request."""
        if not self.store_down:
            self.store_down = True
            log.error("store unavailable, answering 503 with Retry-After until it is back: %s: %s", type(exc).__name__, exc)

    def store_recovered(self) -> None:
        if self.store_down:
            self.store_down = False
            log.warning("store available again")

    async def plan_events(self, record: OperationRecord, base_url: str) -> None:
        """(Re-)plan the webhooks and callbacks of ``record``; cheap when its dialect sends none."""
        dialect = self.dialects[record.dialect]
        if not dialect.events:
            return
        deliveries = plan(dialect, record, base_url, self.config.endpoints(dialect.name))
        if deliveries:
            await self.store.deliveries.schedule(deliveries)
            self.wake_deliverer()

    async def signer(self) -> Signer:
        """The download-URL signer; its secret is drawn once and shared through a shared store."""
        if self._signer is None:
            secret = await self.store.shared_secret("download-signing", secrets.token_bytes(32))
            self._signer = Signer(secret)
        return self._signer

    async def load_owners(self) -> Owners:
        """Key -> owner digests; the salt is drawn once and shared through a shared store."""
        if self.owners is None:
            self.owners = Owners(await self.store.shared_secret("owner-salt", secrets.token_bytes(32)))
        return self.owners

    async def owner_of(self, key: str) -> str:
        """The owner digest of ``key``."""
        return (self.owners or await self.load_owners()).of(key)

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
