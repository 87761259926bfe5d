"""One operation, compiled: the request pipeline in front of its role's handler.

    authenticate -> read the body -> validate -> the role's handler -> faults on the way out

Each step reads and fills the :class:`~mockserver.call.Call`; any step may raise
a :class:`~mockserver.errors.VendorError`, which the dialect's app answers in the
vendor's own shape.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import ClientDisconnect
from starlette.responses import Response

from mockserver.call import Call
from mockserver.errors import VendorError
from mockserver.faults import NO_FAULT, Decision, FaultError, FaultRule, parse_compact
from mockserver.responses import FaultyResponse
from mockserver.runtime import Runtime
from mockserver.signing import HOP
from mockserver.simulator import Simulator
from mockserver.validation import RequestValidator
from videogen.credentials import Slot
from videogen.dialect import Dialect, Operation

if TYPE_CHECKING:
    Handler = Callable[["Endpoint", Call], Awaitable[Response]]

__all__ = ["Endpoint"]


def read_key(slots: tuple[Slot, ...], call: Call) -> str | None:
    for slot in slots:
        key = slot.read(call.headers, call.query)
        if key is not None:
            return key
    return None


class Endpoint:
    """One documented operation of a dialect, ready to serve."""

    def __init__(self, op: Operation, dialect: Dialect, runtime: Runtime, handler: Handler) -> None:
        self.op = op
        self.dialect = dialect
        self.runtime = runtime
        self.sim: Simulator = runtime.simulators[dialect.name]
        self.validator = RequestValidator(op)
        self.handler = handler
        # Who may follow a signed URL that wants the key again: this operation's slots,
        # or the create's when downloads are public.
        self.hop_slots = op.credentials or (dialect.create.credentials if op.role == "download" else ())

    async def handle(self, call: Call) -> Response:
        if "x-mock-fault" in call.headers:
            call.header_faults = self.header_faults(call)
        key = self.key_of(call)
        if key is not None:
            call.owner = (self.runtime.owners or await self.runtime.load_owners()).of(key)
        body = call.body = await self.read_body(call) if self.validator.takes_body else b""
        call.parsed = parsed = self.validator.validate(call.path_params, call.query, call.headers, body)
        if parsed.violations:
            listed = "; ".join(str(v) for v in parsed.violations)
            raise VendorError(
                "invalid_request", f"Request contains {len(parsed.violations)} invalid argument(s): {listed}", parsed.violations
            )
        response = await self.handler(self, call)
        return response if call.fault is NO_FAULT else FaultyResponse.wrap(response, call.fault)

    def header_faults(self, call: Call) -> list[FaultRule]:
        try:
            return parse_compact(call.headers["x-mock-fault"], "X-Mock-Fault") if call.headers["x-mock-fault"] else []
        except FaultError as exc:
            raise VendorError("invalid_request", str(exc)) from None

    def key_of(self, call: Call) -> str | None:
        """The caller's key, or None where the operation asks for none; refused keys raise."""
        slots = self.op.credentials
        if self.op.role == "download":
            call.hop = call.query.get(HOP)
            if call.hop is not None:
                # A signed URL carries its own authority, unless it was issued as one that
                # wants the key again; the download handler verifies the signature itself.
                slots = self.hop_slots if call.hop.startswith("k") else ()
        if not slots:
            return None
        key = read_key(slots, call)
        if key is None:
            raise VendorError(
                "missing_key", "Method doesn't allow unregistered callers: send an API key as this API's security scheme requires."
            )
        allowed = self.runtime.config.api_keys
        if allowed and key not in allowed:
            raise VendorError("invalid_key", "API key not valid. Please pass a valid API key.")
        return key

    async def read_body(self, call: Call) -> bytes:
        limit = self.runtime.config.max_body_bytes
        declared = call.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise VendorError("payload_too_large", f"Request body is {declared} bytes; the limit is {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        while True:  # the ASGI messages themselves: Request.stream() costs an async generator per request
            message = await call.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise VendorError("payload_too_large", f"Request body exceeds the limit of {limit} bytes.")
            if not message.get("more_body", False):
                return b"".join([*chunks, chunk]) if chunks else chunk
            chunks.append(chunk)

    def base_url(self, call: Call) -> str:
        return call.base_url(self.runtime.config.public_url, self.dialect.name)

    async def inject(self, call: Call, model: str | None) -> Decision:
        """Draw this request's faults, wait out any latency, and raise the chosen error."""
        runtime = self.runtime
        if not runtime.faults.rules and not call.header_faults:
            return NO_FAULT
        now = await runtime.now()
        fault = runtime.faults.decide(self.dialect.name, self.op.role, model, owner=call.owner, now=now, extra=call.header_faults)
        call.fault = fault
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
