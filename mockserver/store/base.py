"""The store boundary: where operation records and webhook deliveries live.

Three backends implement it: ``memory`` (the default), ``sqlite`` (durable
across restarts, even ``kill -9``) and ``redis`` (shared by several workers or
replicas). A write returns only after it is durable in that backend, so an
answered create is never lost. Records are opaque JSON to every backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol, runtime_checkable

import orjson

from mockserver.record import OperationRecord
from videogen.errors import VideogenError

__all__ = ["Deliveries", "Delivery", "Store", "StoreFull", "StoreUnavailable", "page_of"]


class StoreFull(VideogenError):
    """The store holds as many operations as it may (the memory store's ``--max-operations``)."""


class StoreUnavailable(VideogenError):
    """The store cannot serve now (its server is down or frozen, its file was removed): clients get
    the dialect's 503 with Retry-After, and the mock recovers by itself when the store does."""


@dataclass(slots=True)
class Delivery:
    """One event to deliver to one URL; ``id`` (the ``webhook-id``) is the same on every retry."""

    id: str
    token: str  # the operation it is about
    dialect: str
    event: str  # the Event's key in the dialect
    state: str  # the state whose start it announces
    url: str
    due_at: float  # on the mock's clock: the next attempt is due then
    happened_at: float = 0.0  # on the mock's clock: when the state began (the event's time)
    base_url: str = ""  # the dialect's root as the creating client reached it, for URLs in the body
    attempts: int = 0
    status: str = "pending"  # pending | delivered | failed | superseded
    last: str = ""  # the last attempt's outcome: "200", "503", "timeout", ...
    history: list[dict[str, Any]] = field(default_factory=list)  # each attempt: at (wall clock), answer, ms
    lease_until: float = 0.0  # wall clock: a worker that claimed it holds it until then

    def to_json(self) -> bytes:
        return orjson.dumps(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> Delivery:
        return cls(**orjson.loads(data))


@runtime_checkable
class Deliveries(Protocol):
    """Webhook deliveries, claimed through the store so that several workers never lose or double-send one.

    A claim holds a delivery for ``lease_s`` seconds of wall time; a worker that dies
    holding one lets the lease lapse, and another worker retries it with the same id.
    """

    async def schedule(self, deliveries: Sequence[Delivery]) -> None:
        """Add deliveries; one whose id exists keeps its attempts and history (a re-plan moves its due time)."""
        ...

    async def claim(self, *, now: float, wall: float, lease_s: float, limit: int) -> list[Delivery]:
        """Up to ``limit`` pending deliveries due by ``now`` that no live lease holds, leased to the caller."""
        ...

    async def settle(self, delivery: Delivery) -> None:
        """Write back a claimed delivery after an attempt (a pending one is due again at its due_at)."""
        ...

    async def recent(self, *, token: str | None = None, limit: int = 100) -> list[Delivery]:
        """The latest deliveries, newest first, optionally for one operation."""
        ...

    async def clear(self) -> None: ...


@runtime_checkable
class Store(Protocol):
    """Async storage of :class:`OperationRecord`, keyed by ``token``, and of webhook deliveries.

    ``shared`` says whether other processes can see the same records (and so must
    share the virtual clock's offset and the deployment's secrets through the store too).
    """

    shared: bool
    # Exceptions that mean "the store is unavailable now", never a bug: answered as a 503.
    failures: tuple[type[BaseException], ...]

    @property
    def deliveries(self) -> Deliveries:
        """The webhook deliveries kept with the records."""
        ...

    async def insert(self, record: OperationRecord) -> bool:
        """Store a new ``record`` unless its token is taken (then False, and nothing changes);
        durable when this returns True. One atomic step: two writers never share a token."""
        ...

    async def put(self, record: OperationRecord) -> None:
        """Insert or replace ``record``; durable when this returns."""
        ...

    async def get(self, token: str) -> OperationRecord | None: ...

    async def page(
        self,
        *,
        dialect: str | None = None,
        owner: str | None = None,
        after: str | None = None,
        offset: int = 0,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> list[OperationRecord]:
        """Records in creation order (or newest first), optionally of one dialect and one owner,
        starting after the record ``after`` (or skipping ``offset``), at most ``limit``.
        Deleted records are included: a tombstone is still a record."""
        ...

    async def count(self, dialect: str | None = None, owner: str | None = None) -> int: ...

    async def clear(self) -> None: ...

    async def get_clock_offset(self) -> float:
        """The virtual clock's offset, shared by every process using this store."""
        ...

    async def set_clock_offset(self, offset: float) -> None: ...
    async def advance_clock_offset(self, seconds: float) -> float:
        """Add ``seconds`` to the shared offset atomically; returns the new offset."""
        ...

    async def shared_secret(self, name: str, fresh: bytes) -> bytes:
        """The secret stored under ``name``; ``fresh`` becomes it when there is none yet (set-if-absent)."""
        ...

    async def close(self) -> None: ...


def page_of(
    tokens: Sequence[str], rows: Mapping[str, bytes], after: str | None, *, offset: int, limit: int, newest_first: bool
) -> list[OperationRecord]:
    """A page of ``tokens`` (in creation order) decoded from ``rows``: the memory store's paging."""
    order = range(len(tokens) - 1, -1, -1) if newest_first else range(len(tokens))
    positions = iter(order)
    if after is not None:
        try:
            at = tokens.index(after)  # C speed; a cursor names one token
        except ValueError:
            return []
        positions = iter(range(at - 1, -1, -1) if newest_first else range(at + 1, len(tokens)))
    chosen = islice(positions, offset, offset + max(limit, 0))
    return [OperationRecord.from_row(rows[tokens[i]]) for i in chosen if tokens[i] in rows]
