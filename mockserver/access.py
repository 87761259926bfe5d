"""The access log: one JSON line per request, with every credential hidden.

Headers are never logged. A query parameter is redacted when its name looks like
a credential (key, token, secret, signature...; case-insensitive), whatever the
dialect declares, so ``?key=``, ``?api_key=`` or ``?KEY=`` never reach a log.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.types import Scope

from videogen.credentials import looks_secret

__all__ = ["log_access", "redacted_query"]

access_log = logging.getLogger("videogen.access")


def redacted_query(raw: bytes) -> str:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "REDACTED" if looks_secret(k) else v) for k, v in pairs])


def log_access(scope: Scope, dialect: str, role: str, status: int, started: float) -> None:
    client = scope.get("client")
    line = {
        "dialect": dialect,
        "operation": role,
        "method": scope["method"],
        "path": scope["path"][:2048],
        "query": redacted_query(scope.get("query_string", b""))[:2048],
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 3),
        "client": client[0] if client else None,
    }
    access_log.info(orjson.dumps(line).decode())
