"""``poll``: find the caller's operation from its public id, and show its state now."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.errors import VendorError
from mockserver.record import OperationRecord
from mockserver.responses import JSONBytes
from videogen.inputs import Source
from videogen.pointer import MISSING

__all__ = ["find", "poll", "undocumented"]


async def find(ep: Endpoint, call: Call, source: Source) -> tuple[str, OperationRecord | None]:
    """The raw id the request names, and the caller's operation it identifies (None: unknown to this caller)."""
    raw = source.read(call.parsed)
    if raw is MISSING or not isinstance(raw, str) or not raw:
        raise VendorError("invalid_request", f"the operation id ({source.kind} {source.key!r}) is required")
    located = ep.sim.locate(raw)
    if located is None:
        return raw, None
    token, fields = located
    for name, src in ep.op.vars.items():
        value = src.read(call.parsed)
        if value is not MISSING:
            fields[name] = value
    record = await ep.runtime.store.get(token)
    if (
        record is None
        or record.deleted_at is not None
        or record.dialect != ep.dialect.name
        or record.owner != call.owner
        or not ep.sim.matches(record, fields)
    ):
        return raw, None
    call.token = record.token
    return raw, record


async def poll(ep: Endpoint, call: Call) -> Response:
    assert ep.op.id_source is not None
    raw, record = await find(ep, call, ep.op.id_source)
    await ep.inject(call, record.model if record else None)
    if record is None:
        if ep.op.unknown is not None:  # a vendor that answers an unknown id with a status, not an error
            ctx = {"id": raw, "base_url": ep.base_url(call), "request_id": uuid.uuid4().hex}
            return JSONBytes.of(ep.op.unknown.render(ctx), ep.op.unknown_status)
        raise VendorError("not_found", f"Operation not found: {raw[:200]}")
    now = await ep.runtime.now()
    return JSONBytes(ep.sim.poll_body(ep.op, record, ep.sim.snapshot(record, now), ep.base_url(call)))


async def undocumented(ep: Endpoint, call: Call) -> Response:
    raise VendorError("not_found", f"{ep.op.method} {ep.op.path} is documented but not simulated")
