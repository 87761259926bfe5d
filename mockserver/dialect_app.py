"""One dialect's ASGI app: routing, auth, validation, then the role's handler.

Routes, validators and key readers are compiled when the app is built. A
request that matches no route, fails auth or validation, or names an unknown
operation gets the vendor's own error; an unexpected exception becomes the
vendor's 500 instead of a crash.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.auth import KeyReader, owner_of
from mockserver.errors import VendorError, error_response
from mockserver.faults import NO_FAULT, Decision, FaultError, FaultRule, parse_compact
from mockserver.lifecycle import ScenarioError, parse_scenario
from mockserver.media import render_mp4
from mockserver.ranges import RangeError, byte_range
from mockserver.runtime import Runtime
from mockserver.simulator import Simulator, read_source
from mockserver.validation import Parsed, RequestValidator
from videogen.dialect import Dialect, Operation
from videogen.pointer import MISSING

__all__ = ["HOP", "DialectApp", "FaultyResponse", "compile_path", "hop_value"]

log = logging.getLogger("videogen.mock")
access_log = logging.getLogger("videogen.access")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
PUBLIC_OWNER = "-"
HOP = "videogen_hop"  # the query parameter of a download redirect's signed URL


def hop_value(file_id: str, needs_key: bool) -> str:
    flag = "k" if needs_key else "s"
    return flag + hashlib.sha256(f"{file_id}:{flag}:videogen-hop".encode()).hexdigest()[:20]


_NO_QUERY: Mapping[str, str] = MappingProxyType({})


class JSONBytes(Response):
    """A JSON body already encoded: Starlette's Response without the header assembly."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]


class FaultyResponse(Response):
    """A response sent badly on purpose: cut off, dropped after the headers, or slowly."""

    def __init__(self, inner: Response, fault: Decision) -> None:
        self.inner = inner
        self.fault = fault
        self.status_code = inner.status_code
        self.body = inner.body
        self.raw_headers = inner.raw_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body, fault = bytes(self.body), self.fault
        if fault.drop:
            return  # headers promised a body that never comes: the server closes the connection
        if fault.keep is not None:
            await send({"type": "http.response.body", "body": body[: int(len(body) * fault.keep)], "more_body": True})
            return
        rate = fault.bytes_per_s or len(body) or 1
        chunk = max(1, min(16384, rate // 10))
        for start in range(0, len(body), chunk):
            piece = body[start : start + chunk]
            await asyncio.sleep(len(piece) / rate)  # before sending, so N bytes take N / rate seconds
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def compile_path(template: str) -> re.Pattern[str]:
    """``/v1/{a}:b`` -> a regex with one named group per parameter; no parameter spans '/'."""
    out, pos = "", 0
    for m in re.finditer(r"\{([^{}/]+)\}", template):
        out += re.escape(template[pos : m.start()]) + f"(?P<{m.group(1)}>[^/]+)"
        pos = m.end()
    return re.compile(out + re.escape(template[pos:]))


class Endpoint:
    """One operation, compiled."""

    def __init__(self, op: Operation, dialect: Dialect, runtime: Runtime) -> None:
        self.op = op
        self.dialect = dialect
        self.runtime = runtime
        self.sim: Simulator = runtime.simulators[dialect.name]
        self.validator = RequestValidator(op)
        self.keys = KeyReader(op, dialect.security_schemes)
        # Who may follow a redirect that wants the key again: this operation's
        # scheme, or the create operation's when downloads are public.
        creates = dialect.by_role("create")
        self.hop_keys = self.keys if self.keys.required or not creates else KeyReader(creates[0], dialect.security_schemes)
        handlers: dict[str | None, Callable[[Parsed, str, Request], Awaitable[Response]]] = {
            "create": self.create,
            "poll": self.poll,
            "download": self.download,
            None: self.undocumented,
        }
        self.handler = handlers[op.role]

    async def handle(
        self, request: Request, headers: Mapping[str, str], path_params: dict[str, str], query: Mapping[str, str] | None = None
    ) -> Response:
        if query is None:
            query = request.query_params if request.scope.get("query_string") else _NO_QUERY
        request.scope["videogen.fault"] = NO_FAULT
        request.scope["videogen.header_faults"] = self.header_faults(headers)
        hop = query.get(HOP) if self.op.role == "download" else None
        request.scope["videogen.hop"] = hop
        keys: KeyReader | None = self.keys
        if hop is not None:
            # A redirect's signed URL carries its own authority, unless it was issued
            # as one that wants the key again ("k..."), in which case any of the
            # dialect's key slots must carry the creating key.
            keys = self.hop_keys if hop.startswith("k") else None
        owner = PUBLIC_OWNER
        if keys is not None and keys.required:
            key = keys.read(headers, query)
            if key is None:
                raise VendorError(
                    "missing_key", "Method doesn't allow unregistered callers: send an API key as this API's security scheme requires."
                )
            allowed = self.runtime.config.api_keys
            if allowed and key not in allowed:
                raise VendorError("invalid_key", "API key not valid. Please pass a valid API key.")
            owner = owner_of(key)
        body = await self.read_body(request, headers) if self.validator.takes_json else b""
        parsed = self.validator.validate(path_params, query, headers, body)
        if parsed.violations:
            listed = "; ".join(str(v) for v in parsed.violations)
            raise VendorError(
                "invalid_request", f"Request contains {len(parsed.violations)} invalid argument(s): {listed}", parsed.violations
            )
        response = await self.handler(parsed, owner, request)
        fault: Decision = request.scope["videogen.fault"]
        if fault.drop or fault.keep is not None or fault.bytes_per_s:
            return FaultyResponse(response, fault)
        return response

    def header_faults(self, headers: Mapping[str, str]) -> list[FaultRule]:
        raw = headers.get("x-mock-fault")
        if not raw:
            return []
        try:
            return parse_compact(raw, "X-Mock-Fault")
        except FaultError as exc:
            raise VendorError("invalid_request", str(exc)) from None

    async def inject(self, request: Request, model: str | None, owner: str) -> Decision:
        """Draw this request's faults, wait out any latency, and raise the chosen error."""
        runtime = self.runtime
        header_faults = request.scope["videogen.header_faults"]
        if not runtime.faults.rules and not header_faults:
            return NO_FAULT
        now = await runtime.now()
        fault = runtime.faults.decide(self.dialect.name, self.op.role, model, owner=owner, now=now, extra=header_faults)
        request.scope["videogen.fault"] = fault
        if fault.latency_s:
            await asyncio.sleep(fault.latency_s)
        if fault.retry_after is not None:
            seconds = max(1, math.ceil(fault.retry_after))
            raise VendorError(
                "rate_limited",
                f"Resource has been exhausted (e.g. check quota). Retry after {seconds} s.",
                headers={"retry-after": str(seconds)},
            )
        if fault.error_status == 503:
            raise VendorError("unavailable", "The service is currently unavailable.", headers={"retry-after": "1"})
        if fault.error_status is not None:
            raise VendorError("internal", "Internal error encountered.")
        return fault

    async def read_body(self, request: Request, headers: Mapping[str, str]) -> bytes:
        limit = self.runtime.config.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise VendorError("payload_too_large", f"Request body is {declared} bytes; the limit is {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        while True:  # the ASGI messages themselves: Request.stream() costs an async generator per request
            message = await request.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise VendorError("payload_too_large", f"Request body exceeds the limit of {limit} bytes.")
            if not message.get("more_body", False):
                return b"".join([*chunks, chunk]) if chunks else chunk
            chunks.append(chunk)

    def base_url(self, request: Request, headers: Mapping[str, str]) -> str:
        public = self.runtime.config.public_url
        if public:
            return f"{public.rstrip('/')}/{self.dialect.name}"
        scope = request.scope
        host = headers.get("host") or "127.0.0.1"
        return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"

    def json(self, body: Any, status: int = 200) -> Response:
        return JSONBytes(orjson.dumps(body), status)

    # -- roles ----------------------------------------------------------------

    async def create(self, parsed: Parsed, owner: str, request: Request) -> Response:
        inputs = self.sim.read_inputs(self.op, parsed)
        prompt = inputs.get("prompt")
        try:
            scenario = parse_scenario(prompt if isinstance(prompt, str) else None, parsed.headers.get("x-mock-scenario"))
        except ScenarioError as exc:
            raise VendorError("invalid_request", str(exc)) from None
        model = inputs.get("model")
        fault = await self.inject(request, model if isinstance(model, str) else None, owner)
        now = await self.runtime.now()
        record = self.sim.plan(self.op, parsed, inputs, owner=owner, scenario=scenario, now=now)
        # A seeded generator replays its tokens after a restart on a durable store:
        # never let a new operation overwrite an answered one.
        while await self.runtime.store.get(record.token) is not None:
            record.token = self.sim.new_token()
        if fault.fail_after is not None:
            record.outcome, record.running_s = "failed", fault.fail_after
        elif fault.filtered_empty:
            record.outcome = "filtered"
        await self.runtime.store.put(record)
        ctx = self.sim.context(record, self.sim.snapshot(record, now), self.base_url(request, parsed.headers))
        return self.json(self.sim.render(self.op, ctx), self.op.create_status)

    async def poll(self, parsed: Parsed, owner: str, request: Request) -> Response:
        assert self.op.id_source is not None
        raw = read_source(self.op.id_source, parsed)
        if raw is MISSING or not isinstance(raw, str) or not raw:
            raise VendorError("invalid_request", f"the operation id ({self.op.id_source.kind} {self.op.id_source.key!r}) is required")
        located = self.sim.locate(raw)
        record = None
        if located is not None:
            token, fields = located
            for name, src in self.op.vars.items():
                value = read_source(src, parsed)
                if value is not MISSING:
                    fields[name] = value
            record = await self.runtime.store.get(token)
            if record is not None and (
                record.dialect != self.dialect.name or record.owner != owner or not self.sim.matches(record, fields)
            ):
                record = None
        await self.inject(request, record.model if record else None, owner)
        if record is None:
            raise VendorError("not_found", f"Operation not found: {raw[:200]}")
        now = await self.runtime.now()
        snap = self.sim.snapshot(record, now)
        return JSONBytes(self.sim.poll_body(self.op, record, snap, self.base_url(request, parsed.headers)))

    async def download(self, parsed: Parsed, owner: str, request: Request) -> Response:
        assert self.op.file_source is not None
        raw = read_source(self.op.file_source, parsed)
        located = self.sim.locate_file(str(raw)) if isinstance(raw, str) else None
        record = await self.runtime.store.get(located[0]) if located else None
        hop: str | None = request.scope["videogen.hop"]
        if record is not None and hop is not None and hop != hop_value(str(raw), hop.startswith("k")):
            record = None  # a forged or stale signed URL
        must_own = (self.keys.required and hop is None) or (hop is not None and hop.startswith("k"))
        if located is None or record is None or record.dialect != self.dialect.name or (must_own and record.owner != owner):
            raise VendorError("not_found", f"File not found: {str(raw)[:200]}")
        fault = await self.inject(request, record.model, owner)
        now = await self.runtime.now()
        if self.sim.snapshot(record, now).state != "succeeded" or located[1] >= int(record.inputs["count"]):
            raise VendorError("not_found", f"File not found: {str(raw)[:200]}")
        if fault.redirect and hop is None:
            path = _PLACEHOLDER.sub(lambda m: quote(str(parsed.path.get(m.group(1), "")), safe=""), self.op.path)
            query = urlencode({**{k: str(v) for k, v in parsed.query.items()}, HOP: hop_value(str(raw), fault.redirect_needs_key)})
            location = f"{self.base_url(request, parsed.headers)}{path}?{query}"
            return Response(status_code=302, headers={"location": location, "cache-control": "no-store"})
        inputs = record.inputs
        data = render_mp4(int(inputs["width"]), int(inputs["height"]), float(inputs["duration_s"]), int(inputs["fps"]))
        headers = {"accept-ranges": "bytes", "cache-control": "private, max-age=3600"}
        try:
            span = byte_range(parsed.headers.get("range"), len(data))
        except RangeError as exc:
            headers["content-range"] = f"bytes */{len(data)}"
            raise VendorError(
                "range_not_satisfiable" if "range_not_satisfiable" in self.dialect.error_kinds else "invalid_request",
                str(exc),
                headers=headers,
            ) from None
        if span is None:
            return Response(data, media_type="video/mp4", headers=headers)
        start, end = span
        headers["content-range"] = f"bytes {start}-{end}/{len(data)}"
        return Response(data[start : end + 1], status_code=206, media_type="video/mp4", headers=headers)

    async def undocumented(self, parsed: Parsed, owner: str, request: Request) -> Response:
        raise VendorError("not_found", f"{self.op.method} {self.op.path} is documented but not simulated")


class DialectApp:
    """ASGI app serving one dialect under its mount."""

    def __init__(self, dialect: Dialect, runtime: Runtime) -> None:
        self.dialect = dialect
        self.runtime = runtime
        routes: dict[str, tuple[re.Pattern[str], dict[str, Endpoint]]] = {}
        for op in dialect.operations:
            _, methods = routes.setdefault(op.path, (compile_path(op.path), {}))
            methods[op.method] = Endpoint(op, dialect, runtime)
        self.routes = list(routes.values())
        self.aliases = [(alias, endpoint) for _, methods in self.routes for endpoint in methods.values() for alias in endpoint.op.aliases]
        # query parameters that carry a key, so the access log can hide their values
        self.secret_params = frozenset(
            s["name"] for s in dialect.security_schemes.values() if s.get("type") == "apiKey" and s.get("in") == "query"
        )

    def match(self, method: str, path: str) -> tuple[Endpoint | None, dict[str, str], bool]:
        """(endpoint, path params, whether the path exists under another method)."""
        path_exists = False
        for pattern, methods in self.routes:
            m = pattern.fullmatch(path)
            if m:
                endpoint = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
                if endpoint is not None:
                    return endpoint, m.groupdict(), True
                path_exists = True
        return None, {}, path_exists

    def match_alias(self, method: str, target: str) -> tuple[Endpoint, dict[str, str], dict[str, str]] | None:
        """An ``x-videogen`` alias: a request target some client is known to send instead."""
        for pattern, endpoint in self.aliases:
            m = pattern.fullmatch(target)
            if m and endpoint.op.method == method:
                query_names = {p["name"] for p in endpoint.op.parameters if p["in"] == "query"}
                groups = {k: v for k, v in m.groupdict().items() if v is not None}
                path = {k: v for k, v in groups.items() if k not in query_names}
                return endpoint, path, {k: v for k, v in groups.items() if k in query_names}
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request = Request(scope, receive)
        root = scope.get("root_path", "")
        path = scope["path"]
        path = path[len(root) :] if root and path.startswith(root) else path
        raw_headers = scope["headers"]
        header_bytes = sum(len(k) + len(v) for k, v in raw_headers)
        # Built once for the request; reversed so the first of a repeated header wins, as
        # in Starlette's Headers.get. ASGI servers send header names in lower case.
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(raw_headers)}
        endpoint, params, path_exists = self.match(scope["method"], path or "/")
        query: dict[str, str] | None = None
        if endpoint is None and self.aliases:
            raw_query = scope.get("query_string", b"").decode("latin-1")
            aliased = self.match_alias(scope["method"], f"{path}?{raw_query}" if raw_query else path)
            if aliased is not None:
                endpoint, params, query = aliased
        try:
            limit = self.runtime.config.max_header_bytes
            if header_bytes > limit:
                raise VendorError("invalid_request", f"Request headers total {header_bytes} bytes; the limit is {limit} bytes.")
            if endpoint is None:
                if path_exists:
                    raise VendorError("method_not_allowed", f"Method {scope['method']} is not allowed on {path}.")
                raise VendorError("not_found", f"No such endpoint: {scope['method']} {path}")
            response = await endpoint.handle(request, headers, params, query)
        except VendorError as exc:
            response = error_response(self.dialect, exc)
        except ClientDisconnect:
            return  # gone before its body arrived: nobody to answer, nothing was created
        except Exception:
            log.exception("unexpected error in %s %s", scope["method"], path)
            response = error_response(self.dialect, VendorError("internal", "Internal error encountered."))
        role = (endpoint.op.role or "other") if endpoint is not None else "unmatched"
        counter = (self.dialect.name, role, response.status_code)
        self.runtime.requests[counter] = self.runtime.requests.get(counter, 0) + 1
        try:
            await response(scope, receive, send)
        finally:
            if self.runtime.config.access_log:
                self.log_access(scope, role, response.status_code, started)

    def log_access(self, scope: Scope, role: str, status: int, started: float) -> None:
        """One JSON line; key-bearing query parameters are redacted and headers never logged."""
        query = [
            (k, "REDACTED" if k in self.secret_params else v)
            for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        ]
        client = scope.get("client")
        line = {
            "dialect": self.dialect.name,
            "operation": role,
            "method": scope["method"],
            "path": scope["path"][:2048],
            "query": urlencode(query)[:2048],
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 3),
            "client": client[0] if client else None,
        }
        access_log.info(orjson.dumps(line).decode())
