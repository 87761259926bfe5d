"""``list``: the caller's operations, a page at a time, each rendered as its poll would show it.

Three paging styles, as vendors page: by cursor (``after`` an id, with
``has_more``, ``first_id`` and ``last_id``), by ``offset``, or by ``page``
number. Only the caller's operations are listed; deleted ones never are.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.responses import Response

from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.errors import VendorError
from mockserver.record import OperationRecord
from mockserver.responses import JSONBytes
from videogen.pointer import MISSING

__all__ = ["listing"]

_SCAN = 200  # records read from the store per round while skipping tombstones


def _number(ep: Endpoint, call: Call, name: str, *, default: int, low: int, high: int) -> int:
    assert ep.op.page is not None
    source = getattr(ep.op.page, name)
    raw: Any = source.read(call.parsed) if source is not None else None
    if raw is MISSING or raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise VendorError("invalid_request", f"{name} must be an integer from {low} to {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise VendorError("invalid_request", f"{name} must be an integer from {low} to {high}, got {value}")
    return value


def _matcher(ep: Endpoint, call: Call, now: float) -> Callable[[OperationRecord], bool]:
    """What the request's filters keep: a state, a model, some ids (absent filters keep everything)."""
    tests: list[Callable[[OperationRecord], bool]] = []
    for flt in ep.op.filters:
        value = flt.source.read(call.parsed)
        if value is MISSING or value is None or value in ("", []):
            continue
        if flt.by == "state":
            wanted = set(flt.states.get(str(value), (str(value),)))
            tests.append(lambda r, w=wanted: ep.sim.snapshot(r, now).state in w)  # type: ignore[misc]
        elif flt.by == "model":
            tests.append(lambda r, m=str(value): r.model == m)  # type: ignore[misc]
        else:
            ids = {str(v) for v in value} if isinstance(value, list) else {str(value)}
            tests.append(lambda r, i=ids: ep.sim.identity(r)["id"] in i)  # type: ignore[misc]
    return lambda record: all(test(record) for test in tests)


async def _visible(
    ep: Endpoint, call: Call, *, after: str | None, skip: int, want: int, newest_first: bool, keep: Callable[[OperationRecord], bool]
) -> list[OperationRecord]:
    """Up to ``want`` of the caller's live operations after the token ``after``, skipping ``skip``."""
    store = ep.runtime.store
    out: list[OperationRecord] = []
    cursor = after
    while len(out) < want:
        batch = await store.page(dialect=ep.dialect.name, owner=call.owner, after=cursor, limit=_SCAN, newest_first=newest_first)
        for record in batch:
            if record.deleted_at is not None or not keep(record):
                continue
            if skip:
                skip -= 1
                continue
            out.append(record)
            if len(out) >= want:
                break
        if len(batch) < _SCAN:
            break
        cursor = batch[-1].token
    return out


async def _total(ep: Endpoint, call: Call, keep: Callable[[OperationRecord], bool]) -> int:
    """How many of the caller's live operations the filters keep (a count the answer states)."""
    if not ep.op.filters:
        return await ep.runtime.store.count(ep.dialect.name, call.owner) - len(
            [r for r in await ep.runtime.store.page(dialect=ep.dialect.name, owner=call.owner, limit=1_000_000) if r.deleted_at]
        )
    return len(await _visible(ep, call, after=None, skip=0, want=1_000_000, newest_first=True, keep=keep))


async def listing(ep: Endpoint, call: Call) -> Response:
    page = ep.op.page
    assert page is not None and ep.op.response is not None and ep.op.item_operation is not None
    limit = _number(ep, call, "limit", default=page.default_limit, low=1, high=page.max_limit)
    order = page.order.read(call.parsed) if page.order is not None else MISSING
    newest_first = (order if isinstance(order, str) else page.default_order) != "asc"
    after_token: str | None = None
    skip = 0
    number = 1
    if page.style == "cursor":
        after = page.after.read(call.parsed) if page.after is not None else MISSING
        if isinstance(after, str) and after:
            located = ep.sim.locate(after)
            record = await ep.runtime.store.get(located[0]) if located else None
            if record is None or record.owner != call.owner or record.dialect != ep.dialect.name:
                raise VendorError("invalid_request", f"after={after[:200]!r} names no operation of yours")
            after_token = record.token
    elif page.style == "offset":
        skip = _number(ep, call, "offset", default=0, low=0, high=10_000_000)
    else:
        number = _number(ep, call, "page", default=1, low=1, high=10_000_000)
        skip = (number - 1) * limit
    now = await ep.runtime.now()
    keep = _matcher(ep, call, now)
    records = await _visible(ep, call, after=after_token, skip=skip, want=limit + 1, newest_first=newest_first, keep=keep)
    has_more = len(records) > limit
    records = records[:limit]
    base_url = ep.base_url(call)
    item = ep.dialect.operation(ep.op.item_operation)
    items: list[Any] = [orjson.loads(ep.sim.poll_body(item, r, ep.sim.snapshot(r, now), base_url)) for r in records]
    ids = [ep.sim.identity(r)["id"] for r in records]
    ctx = {
        "items": items,
        "count": len(items),
        "has_more": has_more,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
        "total": await _total(ep, call, keep) if "total" in ep.op.response.names else None,
        "limit": limit,
        "offset": skip,
        "page": number,
        "next_page": number + 1 if has_more else None,
        "order": "desc" if newest_first else "asc",
        "base_url": base_url,
        "request_id": uuid.uuid4().hex,
    }
    return JSONBytes.of(ep.op.response.render(ctx), ep.op.status)
