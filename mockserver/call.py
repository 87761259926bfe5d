"""One request on its way through a dialect: the value each step of the pipeline fills in.

``DialectApp`` routes and makes the call; ``Endpoint`` authenticates, reads and
validates the body; a role handler answers. Everything a later step needs from
an earlier one travels here, never through the ASGI scope.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Receive, Scope

from mockserver.faults import NO_FAULT, Decision, FaultRule
from mockserver.validation import Parsed

__all__ = ["PUBLIC_OWNER", "Call"]

PUBLIC_OWNER = "-"  # the owner of a request to an operation documented without security


class Call:
    """One request; made per request, so a plain class with slots (no dataclass factories)."""

    __slots__ = (
        "body",
        "fault",
        "header_faults",
        "headers",
        "hop",
        "owner",
        "parsed",
        "path",
        "path_params",
        "query",
        "receive",
        "scope",
        "started",
        "token",
    )

    def __init__(  # noqa: PLR0917  (one per request, built in one place)
        self,
        scope: Scope,
        receive: Receive,
        headers: Mapping[str, str],
        path: str,
        path_params: dict[str, str],
        query: Mapping[str, str],
        started: float,
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.headers = headers  # lower-case names, the first of a repeated header
        self.path = path  # relative to the dialect's mount
        self.path_params = path_params
        self.query = query
        self.started = started
        self.owner = PUBLIC_OWNER
        self.parsed: Parsed = _NOTHING_PARSED  # set by the endpoint before any handler runs
        self.header_faults: list[FaultRule] = []
        self.fault: Decision = NO_FAULT  # what the fault injector chose for this request
        self.hop: str | None = None  # a signed download URL's signature, when the request carries one
        self.body = b""  # the request body as read (for the inspector)
        self.token: str | None = None  # the operation this request turned out to be about, once known

    def base_url(self, public_url: str | None, dialect: str) -> str:
        """The dialect's root as the client reached it, or under ``--public-url``."""
        if public_url:
            return f"{public_url.rstrip('/')}/{dialect}"
        host = self.headers.get("host") or "127.0.0.1"
        return f"{self.scope.get('scheme', 'http')}://{host}{self.scope.get('root_path', '')}/{dialect}"


_NOTHING_PARSED = Parsed.empty()
