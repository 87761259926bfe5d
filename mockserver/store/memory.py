"""The default store: a dict in this process.

Records are kept serialised as compact JSON rows (``OperationRecord.to_row``: about
300 bytes each instead of a few KB of Python objects), which is what lets one
process hold a million operations. Two lists of tokens per dialect and per
(dialect, owner) keep creation order for paging without decoding a record.
"""

from __future__ import annotations

from mockserver.record import OperationRecord
from mockserver.store.base import StoreFull, StoreUnavailable, page_of
from mockserver.store.deliveries import MemoryDeliveries

__all__ = ["MemoryStore"]


class MemoryStore:
    shared = False  # one process only
    failures: tuple[type[BaseException], ...] = (StoreUnavailable,)  # a dict does not go away

    def __init__(self, max_records: int = 1_000_000) -> None:
        self.max_records = max_records
        self.deliveries = MemoryDeliveries()
        self._records: dict[str, bytes] = {}
        self._by_dialect: dict[str, list[str]] = {}
        self._by_owner: dict[tuple[str, str], list[str]] = {}
        self._clock_offset = 0.0
        self._secrets: dict[str, bytes] = {}

    def _keep(self, record: OperationRecord) -> None:
        # orjson hands back bytes inside its 4 KB write buffer; copying trims them to their
        # length (about 300 bytes instead of 4 KB per stored operation).
        self._records[record.token] = memoryview(record.to_row()).tobytes()

    async def insert(self, record: OperationRecord) -> bool:
        if record.token in self._records:
            return False
        if len(self._records) >= self.max_records:
            raise StoreFull(
                f"the mock holds its maximum of {self.max_records:,} operations (--max-operations); POST /_mock/reset makes room"
            )
        self._keep(record)
        self._by_dialect.setdefault(record.dialect, []).append(record.token)
        self._by_owner.setdefault((record.dialect, record.owner), []).append(record.token)
        return True

    async def put(self, record: OperationRecord) -> None:
        if record.token not in self._records:
            await self.insert(record)
        else:
            self._keep(record)

    async def get(self, token: str) -> OperationRecord | None:
        data = self._records.get(token)
        return None if data is None else OperationRecord.from_row(data)

    def _tokens(self, dialect: str | None, owner: str | None) -> list[str] | None:
        if owner is not None:
            return self._by_owner.get((dialect, owner), []) if dialect is not None else None
        return self._by_dialect.get(dialect, []) if dialect is not None else None

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
        tokens = self._tokens(dialect, owner)
        if tokens is None:  # every dialect; with an owner, a filter over all of them (the control API's)
            tokens = [t for t, d in self._records.items() if owner is None or OperationRecord.from_row(d).owner == owner]
        return page_of(tokens, self._records, after, offset=offset, limit=limit, newest_first=newest_first)

    async def count(self, dialect: str | None = None, owner: str | None = None) -> int:
        tokens = self._tokens(dialect, owner)
        if tokens is not None:
            return len(tokens)
        if owner is None:
            return len(self._records)
        return sum(1 for d in self._records.values() if OperationRecord.from_row(d).owner == owner)

    async def clear(self) -> None:
        self._records.clear()
        self._by_dialect.clear()
        self._by_owner.clear()
        await self.deliveries.clear()

    async def get_clock_offset(self) -> float:
        return self._clock_offset

    async def set_clock_offset(self, offset: float) -> None:
        self._clock_offset = offset

    async def advance_clock_offset(self, seconds: float) -> float:
        self._clock_offset += seconds
        return self._clock_offset

    async def shared_secret(self, name: str, fresh: bytes) -> bytes:
        return self._secrets.setdefault(name, fresh)

    async def close(self) -> None:
        return None
