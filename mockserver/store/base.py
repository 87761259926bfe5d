"""The store boundary: where operation records live.

Three backends implement it: ``memory`` (the default), ``sqlite`` (durable
across restarts, even ``kill -9``) and ``redis`` (shared by several workers or
replicas). ``put`` returns only after the record is durable in that backend, so
an answered create is never lost. Records are opaque JSON to every backend.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mockserver.record import OperationRecord

__all__ = ["Store"]


@runtime_checkable
class Store(Protocol):
    """Async key-value storage of :class:`OperationRecord`, keyed by ``token``.

    ``shared`` says whether other processes can see the same records (and so must
    share the virtual clock's offset through the store too).
    """

    shared: bool

    async def put(self, record: OperationRecord) -> None:
        """Insert or replace ``record``; durable when this returns."""
        ...

    async def insert(self, record: OperationRecord) -> bool:
        """Store a new ``record`` unless its token is taken (then False, and nothing changes);
        durable when this returns True. One atomic step: two writers never share a token."""
        ...

    async def get(self, token: str) -> OperationRecord | None: ...

    async def list(self, dialect: str | None = None, limit: int = 1000) -> list[OperationRecord]:
        """Records in creation order, oldest first, optionally for one dialect."""
        ...

    async def count(self) -> int: ...

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
