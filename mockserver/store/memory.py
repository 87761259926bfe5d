"""The default store: a dict in this process.

Records are kept serialised as compact JSON rows (``OperationRecord.to_row``: about
300 bytes each instead of a few KB of Python objects), which is what lets one
process hold a million operations.
"""

from __future__ import annotations

from mockserver.record import OperationRecord

__all__ = ["MemoryStore"]


class MemoryStore:
    shared = False  # one process only

    def __init__(self) -> None:
        self._records: dict[str, bytes] = {}
        self._clock_offset = 0.0
        self._secrets: dict[str, bytes] = {}

    async def put(self, record: OperationRecord) -> None:
        # orjson hands back bytes inside its 4 KB write buffer; copying trims them to their
        # length (about 300 bytes instead of 4 KB per stored operation).
        self._records[record.token] = memoryview(record.to_row()).tobytes()

    async def insert(self, record: OperationRecord) -> bool:
        if record.token in self._records:
            return False
        self._records[record.token] = memoryview(record.to_row()).tobytes()
        return True

    async def get(self, token: str) -> OperationRecord | None:
        data = self._records.get(token)
        return None if data is None else OperationRecord.from_row(data)

    async def list(self, dialect: str | None = None, limit: int = 1000) -> list[OperationRecord]:
        out: list[OperationRecord] = []
        for data in self._records.values():  # dicts keep insertion order: creation order
            record = OperationRecord.from_row(data)
            if dialect is None or record.dialect == dialect:
                out.append(record)
                if len(out) >= limit:
                    break
        return out

    async def count(self) -> int:
        return len(self._records)

    async def clear(self) -> None:
        self._records.clear()

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
