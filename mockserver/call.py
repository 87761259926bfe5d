"""One request on its way through a dialect: the value each step of the pipeline fills in.

``DialectApp`` routes and makes the call; ``Endpoint`` authenticates, reads and
validates the body; a role handler answers. Everything a later step needs from
an earlier one travels here, never through the ASGI scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.types import Receive, Scope

from mockserver.faults import NO_FAULT, Decision, FaultRule
from mockserver.validation import Parsed

__all__ = ["PUBLIC_OWNER", "Call"]

PUBLIC_OWNER = "-"  # the owner of a request to an operation documented without security


@dataclass(slots=True)
class Call:
    scope: Scope
    receive: Receive
    headers: Mapping[str, str]  # lower-case names, the first of a repeated header
    path: str  # relative to the dialect's mount
    path_params: dict[str, str]
    query: Mapping[str, str]
    started: float
    owner: str = PUBLIC_OWNER
    parsed: Parsed = field(default_factory=Parsed.empty)
    header_faults: list[FaultRule] = field(default_factory=list)
    fault: Decision = field(default_factory=lambda: NO_FAULT)  # what the fault injector chose for this request
    hop: str | None = None  # a signed download URL's signature, when the request carries one

    def base_url(self, public_url: str | None, dialect: str) -> str:
        """The dialect's root as the client reached it, or under ``--public-url``."""
        if public_url:
            return f"{public_url.rstrip('/')}/{dialect}"
        host = self.headers.get("host") or "127.0.0.1"
        return f"{self.scope.get('scheme', 'http')}://{host}{self.scope.get('root_path', '')}/{dialect}"
