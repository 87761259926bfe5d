"""Webhook deliveries in this process: the memory store's queue (see ``Deliveries`` in ``base``)."""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.store.base import Delivery

__all__ = ["MemoryDeliveries"]

_KEEP = 100_000  # settled deliveries kept for /_mock/webhooks; the oldest go first


class MemoryDeliveries:
    def __init__(self) -> None:
        self._all: dict[str, Delivery] = {}

    async def schedule(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            known = self._all.get(d.id)
            if known is None:
                self._all[d.id] = d
            elif known.status == "pending":
                known.due_at, known.happened_at, known.url = d.due_at, d.happened_at, d.url
        if len(self._all) > _KEEP:
            for old in [k for k, v in self._all.items() if v.status != "pending"][: len(self._all) - _KEEP]:
                del self._all[old]

    async def claim(self, *, now: float, wall: float, lease_s: float, limit: int) -> list[Delivery]:
        out = []
        for d in self._all.values():
            if d.status == "pending" and d.due_at <= now and d.lease_until <= wall:
                d.lease_until = wall + lease_s
                out.append(Delivery.from_json(d.to_json()))  # a copy: the caller changes it, then settles
                if len(out) >= limit:
                    break
        return out

    async def settle(self, delivery: Delivery) -> None:
        delivery.lease_until = 0.0
        self._all[delivery.id] = delivery

    async def recent(self, *, token: str | None = None, limit: int = 100) -> list[Delivery]:
        chosen = [d for d in reversed(self._all.values()) if token is None or d.token == token]
        return chosen[:limit]

    async def clear(self) -> None:
        self._all.clear()
