"""The control API under ``/_mock/``: inspect operations, force states, move the clock, reset.

It is described by ``control.yaml`` beside this module (served at
``/_mock/openapi.json``). Without a control token it answers loopback clients
only; with one, every call must carry it.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from mockserver.faults import KINDS, FaultError, FaultRule, parse_compact
from mockserver.inspector import asset, asset_names, detail, media_of, variants_of
from mockserver.lifecycle import state_at
from mockserver.ranges import RangeError, byte_range
from mockserver.record import OperationRecord
from mockserver.responses import JSONBytes, media
from mockserver.runtime import Runtime
from mockserver.store.base import Delivery
from videogen.coercion import is_digits
from videogen.dialect import YAML_LOADER
from videogen.states import FORCEABLE, ORDER, STATES, TERMINAL

__all__ = ["CONTROL_SPEC", "control_router", "render_metrics", "summary"]

CONTROL_SPEC: dict[str, Any] = yaml.load((Path(__file__).parent / "control.yaml").read_text(encoding="utf-8"), Loader=YAML_LOADER)
_NAMED_LOOPBACK = frozenset({"localhost", "testclient"})  # in-process test clients name themselves


def is_loopback(host: str) -> bool:
    """Whether a client address is this machine: 127.0.0.0/8, ::1 and ::ffff:127.x, never a prefix match."""
    if host in _NAMED_LOOPBACK:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


_PAGE = 500  # records read from the store per step of a filtered listing
_BROWSER_PATHS = ("/_mock/ui", "/_mock/operations/")  # what a browser loads itself: the token may come in ?token=


def _error(status: int, message: str) -> Response:
    return JSONBytes.of({"error": {"code": status, "message": message}}, status)


def summary(runtime: Runtime, record: OperationRecord, now: float) -> dict[str, Any]:
    snap = state_at(record, now)
    ident = runtime.simulators[record.dialect].identity(record) if record.dialect in runtime.simulators else {}
    return {
        "token": record.token,
        "dialect": record.dialect,
        "id": ident.get("id", record.token),
        "name": ident.get("name", record.token),
        "model": record.model,
        "owner": record.owner,
        "state": snap.state,
        "progress": snap.progress,
        "outcome": record.outcome,
        "forced": record.forced_state is not None,
        "created_at": record.created_at,
        "state_since": snap.since,
        "inputs": record.inputs,
    }


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "token": d.token,
        "dialect": d.dialect,
        "event": d.event,
        "state": d.state,
        "url": d.url,
        "status": d.status,
        "attempts": d.attempts,
        "last": d.last,
        "due_at": d.due_at,
        "happened_at": d.happened_at,
        "history": d.history,
    }


def render_metrics(
    requests: dict[tuple[str, str, int], int],
    stored: dict[str, int],
    created: dict[tuple[str, str], int],
    webhooks: dict[tuple[str, str], int] | None = None,
) -> str:
    """The Prometheus text format: requests by dialect, operation and status; operations stored and created; webhook
    attempts. Everything is a counter or a count the store keeps: nothing is computed by reading the operations."""
    lines = [
        "# HELP videogen_requests_total Requests answered inside a dialect's mount.",
        "# TYPE videogen_requests_total counter",
    ]
    for (dialect, operation, status), n in sorted(requests.items()):
        lines.append(f'videogen_requests_total{{dialect="{_label(dialect)}",operation="{_label(operation)}",status="{status}"}} {n}')
    lines += ["# HELP videogen_operations_stored Operations in the store.", "# TYPE videogen_operations_stored gauge"]
    for dialect, n in sorted(stored.items()):
        lines.append(f'videogen_operations_stored{{dialect="{_label(dialect)}"}} {n}')
    lines += [
        "# HELP videogen_operations_created_total Operations this process created, by the outcome planned for them.",
        "# TYPE videogen_operations_created_total counter",
    ]
    for (dialect, outcome), n in sorted(created.items()):
        lines.append(f'videogen_operations_created_total{{dialect="{_label(dialect)}",outcome="{outcome}"}} {n}')
    lines += [
        "# HELP videogen_webhook_attempts_total Webhook and callback attempts by outcome.",
        "# TYPE videogen_webhook_attempts_total counter",
    ]
    for (dialect, outcome), n in sorted((webhooks or {}).items()):
        lines.append(f'videogen_webhook_attempts_total{{dialect="{_label(dialect)}",outcome="{outcome}"}} {n}')
    return "\n".join(lines) + "\n"


def control_router(runtime: Runtime) -> Router:
    async def guard(request: Request) -> Response | None:
        token = runtime.config.control_token
        if token:
            sent = request.headers.get("x-mock-token") or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not sent and request.method == "GET" and request.url.path.startswith(_BROWSER_PATHS):
                sent = request.query_params.get("token", "")  # a page, a script or a <video> cannot send headers
            if not sent or not hmac.compare_digest(sent.encode(), token.encode()):
                return _error(401, "the control API needs the control token: send 'X-Mock-Token: <token>'")
            return None
        client = request.client.host if request.client else ""
        if runtime.config.control_loopback_only and not is_loopback(client):
            return _error(403, "the control API answers loopback clients only; start the server with --control-token to open it")
        return None

    async def body_of(request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError as exc:
            return None, _error(400, f"malformed JSON body: {exc}")
        if not isinstance(body, dict):
            return None, _error(400, f"expected a JSON object, got {type(body).__name__}")
        return body, None

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            denied = await guard(request)
            if denied is not None:
                return denied
            result: Response = await handler(request)
            return result

        return endpoint

    async def openapi(request: Request) -> Response:
        return JSONBytes.of(CONTROL_SPEC)

    async def health(request: Request) -> Response:
        return JSONBytes.of(
            {
                "status": "ok",
                "dialects": sorted(runtime.dialects),
                "operations": await runtime.store.count(),
                "pid": os.getpid(),
                "store": type(runtime.store).__name__.removesuffix("Store").lower(),
            }
        )

    async def list_operations(request: Request) -> Response:
        dialect = request.query_params.get("dialect")
        if dialect is not None and dialect not in runtime.dialects:
            return _error(400, f"unknown dialect {dialect!r}; expected one of: {', '.join(sorted(runtime.dialects))}")
        limit_raw = request.query_params.get("limit", "1000")
        if not is_digits(limit_raw) or not 1 <= int(limit_raw) <= 100_000:
            return _error(400, f"limit must be an integer from 1 to 100000, got {limit_raw!r}")
        state = request.query_params.get("state")
        if state is not None and state not in STATES:
            return _error(400, f"unknown state {state!r}; expected one of: {', '.join(STATES)}")
        key = request.query_params.get("api_key")
        owner_raw = request.query_params.get("owner")
        order = request.query_params.get("order", "asc")
        if order not in ("asc", "desc"):
            return _error(400, f"order must be 'asc' (creation order) or 'desc' (newest first), got {order!r}")
        after = request.query_params.get("after")
        if after is not None and await runtime.store.get(after) is None:
            return _error(400, f"after={after!r} names no stored operation")
        owner = await runtime.owner_of(key) if key is not None else owner_raw
        limit, now = int(limit_raw), await runtime.now()
        # Filters apply before the limit, page by page from the store: the event loop is never
        # held for a whole scan, and a filter that matches little still finds what there is.
        items: list[dict[str, Any]] = []
        cursor = after
        while len(items) < limit:
            page = await runtime.store.page(
                dialect=dialect, owner=owner if dialect is not None else None, after=cursor, limit=_PAGE, newest_first=order == "desc"
            )
            for record in page:
                if owner is not None and record.owner != owner:
                    continue
                item = summary(runtime, record, now)
                if state is None or item["state"] == state:
                    items.append(item)
                    if len(items) == limit:
                        break
            if len(page) < _PAGE:
                break
            cursor = page[-1].token
            await asyncio.sleep(0)  # let other requests in between pages
        more = items[-1]["token"] if len(items) == limit else None
        return JSONBytes.of({"operations": items, "now": now, "next_after": more})

    async def get_operation(request: Request) -> Response:
        record = await runtime.store.get(request.path_params["token"])
        if record is None:
            return _error(404, f"no operation with token {request.path_params['token']!r}")
        return JSONBytes.of(summary(runtime, record, await runtime.now()))

    async def force_state(request: Request) -> Response:
        body, problem = await body_of(request)
        if problem is not None:
            return problem
        assert body is not None
        target = body.get("state")
        if target not in FORCEABLE:
            return _error(400, f"'state' must be one of {', '.join(FORCEABLE)}; got {target!r}")
        record = await runtime.store.get(request.path_params["token"])
        if record is None:
            return _error(404, f"no operation with token {request.path_params['token']!r}")
        states = runtime.dialects[record.dialect].states if record.dialect in runtime.dialects else ()
        if target not in states:
            return _error(400, f"the {record.dialect} dialect has no {target!r} state; it has: {', '.join(states)}")
        now = await runtime.now()
        current = state_at(record, now).state
        if current == target:
            return JSONBytes.of(summary(runtime, record, now))
        if current in TERMINAL or ORDER[target] < ORDER[current]:
            return _error(409, f"operation is {current}; states only move forward (queued -> running -> {'|'.join(sorted(TERMINAL))})")
        if target == "running":
            # The queue ends now; creation time (part of some ids) and the outcome stay as planned.
            record.queued_s = now - record.created_at
        else:
            record.forced_state, record.forced_at = target, now
        await runtime.store.put(record)
        deliveries = await runtime.store.deliveries.recent(token=record.token, limit=1)
        await runtime.plan_events(record, deliveries[0].base_url if deliveries else "")
        return JSONBytes.of(summary(runtime, record, now))

    async def clock(request: Request) -> Response:
        return JSONBytes.of({"now": await runtime.now()})

    async def advance(request: Request) -> Response:
        body, problem = await body_of(request)
        if problem is not None:
            return problem
        assert body is not None
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 10 * 365 * 86400:
            return _error(400, f"'seconds' must be a number from 0 to 315360000; got {seconds!r}")
        await runtime.advance_clock(float(seconds))
        runtime.wake_deliverer()  # what became due is sent now, not at the next tick
        return JSONBytes.of({"now": await runtime.now()})

    async def reset(request: Request) -> Response:
        deleted = await runtime.store.count()
        await runtime.store.clear()
        return JSONBytes.of({"deleted": deleted})

    async def get_faults(request: Request) -> Response:
        faults = runtime.faults
        return JSONBytes.of({"seed": faults.seed, "faults": [r.to_dict() for r in faults.rules], "kinds": KINDS})

    async def put_faults(request: Request) -> Response:
        body, problem = await body_of(request)
        if problem is not None:
            return problem
        assert body is not None
        unknown = set(body) - {"seed", "faults"}
        raw, seed = body.get("faults"), body.get("seed")
        if unknown or not isinstance(raw, list) or not (seed is None or (isinstance(seed, int) and not isinstance(seed, bool))):
            return _error(
                400,
                "expected {'faults': [{'kind': ..., ...}], 'seed': N (optional)}"
                + (f"; unknown fields {sorted(unknown)}" if unknown else ""),
            )
        try:  # a rule is an object, or a string in the compact syntax of --fault (several joined with ';')
            rules = [
                rule
                for i, r in enumerate(raw)
                for rule in (parse_compact(r, f"faults/{i}") if isinstance(r, str) else [FaultRule.from_dict(r, f"faults/{i}")])
            ]
        except FaultError as exc:
            return _error(400, str(exc))
        runtime.faults.replace(rules, seed)
        return await get_faults(request)

    async def delete_faults(request: Request) -> Response:
        runtime.faults.replace([])
        return await get_faults(request)

    async def webhooks(request: Request) -> Response:
        token = request.query_params.get("token")
        limit_raw = request.query_params.get("limit", "100")
        if not is_digits(limit_raw) or not 1 <= int(limit_raw) <= 10_000:
            return _error(400, f"limit must be an integer from 1 to 10000, got {limit_raw!r}")
        found = await runtime.store.deliveries.recent(token=token, limit=int(limit_raw))
        return JSONBytes.of({"deliveries": [_delivery(d) for d in found], "now": await runtime.now()})

    async def page(request: Request) -> Response:
        served = asset("index.html")
        token = request.query_params.get("token")
        if token and runtime.config.control_token:  # the page's own files need the token too
            suffix = "?" + urlencode({"token": token})
            body = bytes(served.body)
            served.body = body.replace(b'"ui/style.css"', f'"ui/style.css{suffix}"'.encode()).replace(
                b'"ui/app.js"', f'"ui/app.js{suffix}"'.encode()
            )
            served.headers["content-length"] = str(len(served.body))
        return served

    async def page_asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in asset_names():
            return _error(404, f"no such file of the inspector: {name!r}")
        return asset(name)

    async def operation_detail(request: Request) -> Response:
        record = await runtime.store.get(request.path_params["token"])
        if record is None:
            return _error(404, f"no operation with token {request.path_params['token']!r}")
        now = await runtime.now()
        shown = detail(summary(runtime, record, now), record, now, runtime.exchanges, runtime.dialects.get(record.dialect))
        shown["deliveries"] = [_delivery(d) for d in await runtime.store.deliveries.recent(token=record.token, limit=100)]
        return JSONBytes.of({**shown, "exchanges_kept": runtime.config.exchanges, "now": now})

    async def operation_media(request: Request) -> Response:
        record = await runtime.store.get(request.path_params["token"])
        if record is None:
            return _error(404, f"no operation with token {request.path_params['token']!r}")
        if state_at(record, await runtime.now()).state != "succeeded":
            return _error(409, "the operation has not succeeded: it has no media")
        dialect = runtime.dialects.get(record.dialect)
        variants = variants_of(dialect) if dialect is not None else {"video": "video/mp4"}
        variant = request.query_params.get("variant", "video")
        if variant not in variants:
            return _error(400, f"variant must be one of {', '.join(variants)}, got {variant!r}")
        data = media_of(record, variant, variants[variant])
        try:
            span = byte_range(request.headers.get("range"), len(data))
        except RangeError as exc:
            return _error(416, str(exc))
        return media(data, variants[variant], span, {"cache-control": "no-store"})

    async def stats(request: Request) -> Response:
        requests = [{"dialect": d, "operation": o, "status": s, "count": n} for (d, o, s), n in sorted(runtime.requests.items())]
        created = [{"dialect": d, "outcome": o, "count": n} for (d, o), n in sorted(runtime.created.items())]
        dialects = {name: {"title": d.title, "states": list(d.states)} for name, d in sorted(runtime.dialects.items())}
        return JSONBytes.of({"now": await runtime.now(), "requests": requests, "created": created, "dialects": dialects})

    async def metrics(request: Request) -> Response:
        stored = {name: await runtime.store.count(name) for name in runtime.dialects}
        text = render_metrics(runtime.requests, stored, runtime.created, runtime.webhooks)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    return Router(
        routes=[
            Route("/faults", guarded(get_faults), methods=["GET"]),
            Route("/faults", guarded(put_faults), methods=["PUT"]),
            Route("/faults", guarded(delete_faults), methods=["DELETE"]),
            Route("/metrics", guarded(metrics), methods=["GET"]),
            Route("/webhooks", guarded(webhooks), methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/health", guarded(health), methods=["GET"]),
            Route("/operations", guarded(list_operations), methods=["GET"]),
            Route("/operations/{token}", guarded(get_operation), methods=["GET"]),
            Route("/operations/{token}/state", guarded(force_state), methods=["POST"]),
            Route("/operations/{token}/detail", guarded(operation_detail), methods=["GET"]),
            Route("/operations/{token}/media", guarded(operation_media), methods=["GET"]),
            Route("/stats", guarded(stats), methods=["GET"]),
            Route("/ui", guarded(page), methods=["GET"]),
            Route("/ui/{name}", guarded(page_asset), methods=["GET"]),
            Route("/clock", guarded(clock), methods=["GET"]),
            Route("/clock/advance", guarded(advance), methods=["POST"]),
            Route("/reset", guarded(reset), methods=["POST"]),
        ]
    )
