"""One dialect's ASGI app: route the request, run the operation's pipeline, answer errors in the vendor's shape.

Routes, validators and key readers are compiled when the app is built. A
request that matches no route, fails auth or validation, or names an unknown
operation gets the vendor's own error; an unexpected exception becomes the
vendor's 500 instead of a crash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from types import MappingProxyType

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from mockserver.access import log_access
from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.errors import VendorError, error_response
from mockserver.roles import HANDLERS
from mockserver.runtime import Runtime
from videogen.dialect import Dialect
from videogen.paths import Match, Router

__all__ = ["DialectApp"]

log = logging.getLogger("videogen.mock")
_NO_QUERY: Mapping[str, str] = MappingProxyType({})


class DialectApp:
    """ASGI app serving one dialect under ``/<dialect name>``."""

    def __init__(self, dialect: Dialect, runtime: Runtime) -> None:
        self.dialect = dialect
        self.runtime = runtime
        self.prefix = f"/{dialect.name}"
        self.router: Router[Endpoint] = Router()
        for route in dialect.router.routes():
            self.router.add(route.method, route.template.text, Endpoint(route.target, dialect, runtime, HANDLERS[route.target.role]))
        self.aliases = [(alias, e.target) for e in self.router.routes() for alias in e.target.op.aliases]
        self.store_failures = runtime.store.failures
        self.keep_exchanges = runtime.config.exchanges

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
        started = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"][len(self.prefix) :] or "/"
        raw_query: bytes = scope.get("query_string", b"")
        raw_headers = scope["headers"]
        # Built once for the request; reversed so the first of a repeated header wins, as
        # in Starlette's Headers.get. ASGI servers send header names in lower case.
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(raw_headers)}
        routed = self.router.match(method, path)
        endpoint, params = routed.target, routed.params or {}
        query: Mapping[str, str] = QueryParams(raw_query) if raw_query else _NO_QUERY
        if endpoint is None and self.aliases:
            text = raw_query.decode("latin-1")
            aliased = self.match_alias(method, f"{path}?{text}" if text else path)
            if aliased is not None:
                endpoint, params, query = aliased
        call: Call | None = None
        try:
            header_bytes = sum(len(k) + len(v) for k, v in raw_headers)
            limit = self.runtime.config.max_header_bytes
            if header_bytes > limit:
                raise VendorError("invalid_request", f"Request headers total {header_bytes} bytes; the limit is {limit} bytes.")
            if endpoint is None:
                if routed.match is Match.PARTIAL:
                    raise VendorError(
                        "method_not_allowed", f"Method {method} is not allowed on {path}.", headers={"allow": ", ".join(routed.allow)}
                    )
                raise VendorError("not_found", f"No such endpoint: {method} {path}")
            call = Call(scope, receive, headers, path, params, query, started)
            response = await endpoint.handle(call)
        except VendorError as exc:
            response = error_response(self.dialect, exc)
        except self.store_failures as exc:
            self.runtime.store_outage(exc)
            unavailable = VendorError("unavailable", "The service is temporarily unavailable; retry shortly.", headers={"retry-after": "1"})
            response = error_response(self.dialect, unavailable)
        except ClientDisconnect:
            return  # gone before its body arrived: nobody to answer, nothing was created
        except Exception:
            log.exception("unexpected error in %s %s", method, path)
            response = error_response(self.dialect, VendorError("internal", "Internal error encountered."))
        else:
            if self.runtime.store_down and endpoint is not None and response.status_code < 500:
                self.runtime.store_recovered()
        role = (endpoint.op.role or "other") if endpoint is not None else "unmatched"
        if call is not None and call.token is not None and self.keep_exchanges:
            self.runtime.exchanges.record(call.token, role, scope, response.status_code, call.body, response)
        counter = (self.dialect.name, role, response.status_code)
        requests = self.runtime.requests
        requests[counter] = requests.get(counter, 0) + 1
        try:
            await response(scope, receive, send)
        finally:
            if self.runtime.config.access_log:
                log_access(scope, self.dialect.name, role, response.status_code, started)
