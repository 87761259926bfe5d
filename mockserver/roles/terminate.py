"""``delete`` and ``cancel``: end an operation's life as the dialect says, by its state.

Each declares an effect for a pending (queued or running) and a finished
operation: ``cancel`` (it becomes ``cancelled`` now), ``delete`` (every later
read is the vendor's not-found), ``keep`` (nothing changes), or ``error:KIND``
(the dialect's documented error, such as cancelling a finished job).
"""

from __future__ import annotations

from starlette.responses import Response

from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.errors import VendorError
from mockserver.responses import JSONBytes, empty
from mockserver.roles.poll import find

__all__ = ["terminate"]

_PAST = {"cancel": "cancelled", "delete": "deleted"}


async def terminate(ep: Endpoint, call: Call) -> Response:
    assert ep.op.id_source is not None
    raw, record = await find(ep, call, ep.op.id_source)
    await ep.inject(call, record.model if record else None)
    if record is None:
        raise VendorError("not_found", f"Operation not found: {raw[:200]}")
    now = await ep.runtime.now()
    snap = ep.sim.snapshot(record, now)
    effect = ep.op.effect(snap.state)
    if effect.startswith("error:"):
        done = _PAST.get(ep.op.role or "", "ended")
        raise VendorError(effect.removeprefix("error:"), f"Operation {raw[:200]} is {snap.state}: it cannot be {done} now.")
    base_url = ep.base_url(call)
    if effect == "cancel":
        record.forced_state, record.forced_at = "cancelled", now
        await ep.runtime.store.put(record)
        await ep.runtime.plan_events(record, base_url)
    elif effect == "delete":
        record.deleted_at = now
        await ep.runtime.store.put(record)
    if ep.op.response is None or ep.op.response.source is None:
        return empty(ep.op.status)
    return JSONBytes.of(ep.sim.render_with(ep.op.response, record, ep.sim.snapshot(record, now), base_url), ep.op.status)
