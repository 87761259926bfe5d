"""``create``: plan an operation from the request, render its answer, then store it."""

from __future__ import annotations

from starlette.responses import Response

from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.errors import VendorError
from mockserver.lifecycle import ScenarioError, parse_scenario
from mockserver.responses import JSONBytes

__all__ = ["create"]


async def create(ep: Endpoint, call: Call) -> Response:
    assert ep.op.inputs is not None
    sim, store = ep.sim, ep.runtime.store
    inputs = ep.op.inputs.read(call.parsed)
    prompt = inputs.get("prompt")
    try:
        scenario = parse_scenario(prompt if isinstance(prompt, str) else None, call.headers.get("x-mock-scenario"))
    except ScenarioError as exc:
        raise VendorError("invalid_request", str(exc)) from None
    model = inputs.get("model")
    fault = await ep.inject(call, model if isinstance(model, str) else None)
    now = await ep.runtime.now()
    record = sim.plan(ep.op, call.parsed, inputs, owner=call.owner, scenario=scenario, now=now)
    if fault.fail_after is not None:
        record.outcome, record.running_s = "failed", fault.fail_after
    elif fault.filtered_empty:
        record.outcome = "filtered"
    base_url = ep.base_url(call)
    while True:
        # The answer is rendered before the record is stored, so a render that fails leaves
        # nothing behind its 500. A seeded generator replays its tokens after a restart on a
        # durable store, and two replicas may share a seed: insert never overwrites a record.
        body = JSONBytes.of(sim.render(ep.op, sim.context(record, sim.snapshot(record, now), base_url)), ep.op.status)
        if await store.insert(record):
            return body
        record.token = sim.new_token()
