"""Webhooks and callbacks: the one background job, claimed through the store.

An operation's events are planned when it is created (and re-planned when a
control call or a cancel changes it): one :class:`~mockserver.store.base.Delivery`
per event and URL, due when the clock reaches the moment its state begins
(:func:`mockserver.lifecycle.timeline`). What a delivery carries is still a
function of (record, clock): it is rendered when sent, from the record as it is
then, at the event's time; a delivery whose state the record no longer reaches
(a job cancelled before it would have finished) is superseded, not sent.

:class:`Deliverer` claims due deliveries through the store, under a lease, so
several workers never send one twice at once and a worker killed mid-send
leaves its lease to lapse: another retries it, with the same ``webhook-id``.
Failed attempts (a non-2xx, a timeout) are retried with exponential backoff on
the mock's clock, so moving a fake clock fires retries too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from mockserver.lifecycle import state_at, timeline
from mockserver.record import OperationRecord
from mockserver.store.base import Delivery
from videogen.dialect import Dialect, Event

if TYPE_CHECKING:
    from mockserver.runtime import Runtime

__all__ = ["Deliverer", "plan", "sign"]

log = logging.getLogger("videogen.webhooks")
BATCH = 64


def plan(dialect: Dialect, record: OperationRecord, base_url: str, endpoints: Iterable[str]) -> list[Delivery]:
    """The deliveries an operation's events make: callbacks to the URL its create named, webhooks
    to every endpoint configured for the dialect, each due when its state begins."""
    targets: list[tuple[int, Event, str]] = []
    creator = next((op for op in dialect.operations if op.operation_id == record.created_by), None)
    own = {e.key for e in creator.callbacks} if creator is not None else None
    for number, event in enumerate(dialect.events):
        if event.url is not None:
            if own is not None and event.key not in own:
                continue  # another create's callback: a client that made this one never asked for it
            if record.callback and (record.events is None or event.name in record.events):
                targets.append((number, event, record.callback))
        else:
            targets.extend((number, event, url) for url in endpoints)
    steps = timeline(record)
    out = []
    for number, event, url in targets:
        for state, at in steps:
            if state in event.on:
                suffix = f"_{hashlib.sha256(url.encode()).hexdigest()[:6]}" if event.url is None else ""
                out.append(
                    Delivery(
                        id=f"msg_{record.token}_{number}_{state}{suffix}",
                        token=record.token,
                        dialect=dialect.name,
                        event=event.key,
                        state=state,
                        url=url,
                        due_at=at,
                        happened_at=at,
                        base_url=base_url,
                    )
                )
    return out


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """A Standard Webhooks signature: ``v1,`` and base64 HMAC-SHA256 of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class Deliverer:
    """Sends the deliveries that became due; run as the app's one background task."""

    def __init__(self, runtime: Runtime, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.runtime = runtime
        self.transport = transport
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look now (the clock moved, or an operation was planned), not at the next tick."""
        self._wake.set()

    async def run(self, interval: float = 0.1) -> None:
        """Deliver what is due, forever: every ``interval`` seconds, or at once when woken."""
        while True:
            try:
                await self.deliver_due()
            except self.runtime.store.failures as exc:  # an outage: said once, tried again at the next tick
                self.runtime.store_outage(exc)
            except Exception:  # a bug: logged, and the loop goes on
                log.exception("webhook delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def deliver_due(self) -> int:
        """Claim every due delivery (in batches) and attempt each; returns how many were attempted."""
        runtime = self.runtime
        attempted = 0
        while True:
            now = await runtime.now()
            # A lease outlives the slowest attempt (timeout 5 s) several times over; a worker that
            # dies holding one lets it lapse, and another retries the delivery under the same id.
            lease = runtime.config.webhook_lease_s
            claimed = await runtime.store.deliveries.claim(now=now, wall=time.time(), lease_s=lease, limit=BATCH)
            if not claimed:
                return attempted
            await asyncio.gather(*(self._attempt(d, now) for d in claimed))
            attempted += len(claimed)

    async def _attempt(self, delivery: Delivery, now: float) -> None:
        runtime = self.runtime
        dialect = runtime.dialects.get(delivery.dialect)
        record = await runtime.store.get(delivery.token)
        event = next((e for e in dialect.events if e.key == delivery.event), None) if dialect else None
        if dialect is None or record is None or event is None or not self._still_happens(record, delivery):
            delivery.status = "superseded"
            await runtime.store.deliveries.settle(delivery)
            self._count(delivery)
            return
        body = orjson.dumps(self._render(dialect, event, record, delivery))
        headers = {"content-type": "application/json", "user-agent": "videogen-mock"}
        secret = runtime.config.webhook_secret or dialect.webhook_config.secret
        if dialect.webhook_config.signing == "standard-webhooks" and secret:
            stamp = int(time.time())  # wall time: receivers check it against their own clock
            signature = sign(secret, delivery.id, stamp, body)
            headers |= {"webhook-id": delivery.id, "webhook-timestamp": str(stamp), "webhook-signature": signature}
        started = time.perf_counter()
        try:
            response = await self._http(dialect).post(delivery.url, content=body, headers=headers)
            answer, ok = str(response.status_code), 200 <= response.status_code < 300
        except httpx.TimeoutException:
            answer, ok = "timeout", False
        except Exception as exc:  # refused, reset, or a URL no request can go to (httpx.InvalidURL): retried, never fatal
            answer, ok = f"error: {type(exc).__name__}", False
        delivery.attempts += 1
        delivery.last = answer
        delivery.history.append({"at": time.time(), "answer": answer, "ms": round((time.perf_counter() - started) * 1000, 1)})
        config = dialect.webhook_config
        if ok:
            delivery.status = "delivered"
        elif delivery.attempts >= config.attempts:
            delivery.status = "failed"
        else:
            delivery.due_at = now + min(config.backoff_s * 2 ** (delivery.attempts - 1), config.max_backoff_s)
        await runtime.store.deliveries.settle(delivery)
        self._count(delivery)

    def _http(self, dialect: Dialect) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, timeout=dialect.webhook_config.timeout_s, follow_redirects=False)
        return self._client

    @staticmethod
    def _still_happens(record: OperationRecord, delivery: Delivery) -> bool:
        """The record still shows the delivery's state at its time (a re-plan, a cancel or a
        delete may have taken it away, or an instant job may never have shown it)."""
        if record.deleted_at is not None and record.deleted_at <= delivery.happened_at:
            return False
        return state_at(record, delivery.happened_at).state == delivery.state

    def _render(self, dialect: Dialect, event: Event, record: OperationRecord, delivery: Delivery) -> Any:
        sim = self.runtime.simulators[dialect.name]
        happened = delivery.happened_at
        ctx = sim.context(record, state_at(record, happened), delivery.base_url)
        ctx["event"] = {
            "id": delivery.id,
            "name": event.name,
            "created_s": int(happened),
            "created_ms": int(happened * 1000),
            "created_iso": ctx["updated_iso"],
        }
        return event.body.render(ctx)

    def _count(self, delivery: Delivery) -> None:
        key = (delivery.dialect, delivery.status if delivery.status != "pending" else "retrying")
        counts = self.runtime.webhooks
        counts[key] = counts.get(key, 0) + 1
