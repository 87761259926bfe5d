"""``create``: plan an operation from the request, render its answer, then store it.

A create may refer to an operation the caller owns (``source``: a remix or an
extension); an unknown one is the vendor's not-found, and the inputs it names in
``inherit`` come from that operation when the request leaves them out.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.errors import VendorError
from mockserver.lifecycle import ScenarioError, parse_scenario
from mockserver.responses import JSONBytes
from mockserver.roles.poll import find
from mockserver.store import StoreFull

__all__ = ["create"]


async def create(ep: Endpoint, call: Call) -> Response:
    op = ep.op
    assert op.inputs is not None
    sim, store = ep.sim, ep.runtime.store
    inputs = op.inputs.read(call.parsed)
    kept = len(orjson.dumps(inputs, default=str))
    if kept > ep.runtime.config.max_input_bytes:
        limit = ep.runtime.config.max_input_bytes
        raise VendorError("payload_too_large", f"The request's inputs take {kept} bytes; the limit is {limit} bytes.")
    source = None
    if op.source is not None:
        raw, source = await find(ep, call, op.source)
        if source is None:
            raise VendorError("not_found", f"Operation not found: {raw[:200]}")
        for name in op.inherit:
            if name not in inputs:
                inherited = source.model if name == "model" else source.inputs.get(name)
                if inherited is not None:
                    inputs[name] = inherited
    prompt = inputs.get("prompt")
    try:
        scenario = parse_scenario(prompt if isinstance(prompt, str) else None, call.headers.get("x-mock-scenario"))
    except ScenarioError as exc:
        raise VendorError("invalid_request", str(exc)) from None
    model = inputs.get("model")
    fault = await ep.inject(call, model if isinstance(model, str) else None)
    now = await ep.runtime.now()
    record = sim.plan(op, call.parsed, inputs, owner=call.owner, scenario=scenario, now=now)
    if fault.fail_after is not None:
        record.outcome, record.running_s = "failed", fault.fail_after
    elif fault.filtered_empty:
        record.outcome = "filtered"
    if source is not None:
        ident = sim.identity(source)
        record.source = {"token": source.token, "id": str(ident["id"]), "name": str(ident["name"])}
    record.created_by = op.operation_id
    record.callback = next((url for event in op.callbacks if event.url and (url := _callback(event.url.read(call.parsed)))), None)
    if op.events_filter is not None:
        asked = op.events_filter.read(call.parsed)
        record.events = [str(e) for e in asked] if isinstance(asked, list) else None
    base_url = ep.base_url(call)
    while True:
        # The answer is rendered before the record is stored, so a render that fails leaves
        # nothing behind its 500. A seeded generator replays its tokens after a restart on a
        # durable store, and two replicas may share a seed: insert never overwrites a record.
        body = JSONBytes.of(sim.render(op, sim.context(record, sim.snapshot(record, now), base_url)), op.status)
        try:
            inserted = await store.insert(record)
        except StoreFull as exc:
            raise VendorError("rate_limited", str(exc), headers={"retry-after": "60"}) from None
        if inserted:
            call.token = record.token
            await ep.runtime.plan_events(record, base_url)
            counted = ep.runtime.created
            key = (record.dialect, record.outcome)
            counted[key] = counted.get(key, 0) + 1
            return body
        record.token = sim.new_token()


def _callback(value: Any) -> str | None:
    """A callback URL the client gave, or None (the mock sends events only where a client asked)."""
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None
