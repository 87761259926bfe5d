"""The live inspector's server side: what clients sent, and the data behind ``/_mock/ui``.

The page itself (``mockserver/ui/``: plain HTML, CSS and one script, no build step
and nothing from the network) reads the control API like any client: the operation
list page by page, one operation's detail, its media, and the counters. It changes
nothing except through the control API's own endpoints (force a state, advance the
clock, reset, set faults), so the UI adds no second way to change state.

:class:`Exchanges` keeps, per operation and per kind of request (create, poll,
download...), the last request and answer as the client saw them: method, target
(credential-like query parameters redacted, headers never kept), status and up to
4 KiB of each body. It is bounded (the most recent 10,000 operations) and costs a
request one dictionary update.
"""

from __future__ import annotations

import time
from collections import deque
from importlib.resources import files
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from mockserver.access import redacted_query
from mockserver.images import jpeg as jpeg_image
from mockserver.images import spritesheet, webp
from mockserver.lifecycle import state_at, timeline
from mockserver.media import render_mp4
from mockserver.record import OperationRecord
from videogen.dialect import Dialect

__all__ = ["Exchanges", "Seen", "asset", "asset_names", "detail", "media_of", "variants_of"]

_KEEP_BYTES = 4096
_KEEP_OPERATIONS = 10_000
_ASSETS = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}


# What one request kept: (wall time, method, path, raw query, status, request body, answer body, answer type).
# A plain tuple of references taken on the request path; everything else is done when the page asks.
Seen = tuple[float, str, str, bytes, int, bytes, bytes, str]


def _shown(data: bytes) -> str:
    text = data[:_KEEP_BYTES].decode("utf-8", "replace")
    return text + ("…" if len(data) > _KEEP_BYTES else "")


def _as_dict(seen: Seen) -> dict[str, Any]:
    at, method, path, raw_query, status, request, answer, kind = seen
    return {
        "at": at,
        "method": method,
        "target": path[:2048] + (f"?{redacted_query(raw_query)[:2048]}" if raw_query else ""),
        "status": status,
        "request": _shown(request),
        "answer": _shown(answer) if kind.startswith(("application/json", "text/")) else None,
        "answer_type": kind,
    }


class Exchanges:
    """The last request and answer of each kind, per operation; the oldest entries are forgotten first.

    One flat dict keyed by (token, role) and a deque of its keys, oldest first: forgetting
    the oldest is O(1) however many creates went by (finding a dict's first key is not, once
    many were deleted: that cost 7 us a record past the cap, more than a create's budget).
    """

    def __init__(self, keep: int = _KEEP_OPERATIONS) -> None:
        self.keep = keep * 4  # entries: an operation has a create, a poll, a download and sometimes a cancel
        self._seen: dict[tuple[str, str], Seen] = {}
        self._order: deque[tuple[str, str]] = deque()  # the keys of _seen, oldest first
        self._roles: dict[str, None] = {}  # the roles recorded so far, in order, for looking one operation up

    def record(self, token: str, role: str, scope: Scope, status: int, request: bytes, answer: Any) -> None:  # noqa: PLR0917
        """Keep references only (the bodies are already bytes): the request path pays one tuple and a dict update."""
        seen, key = self._seen, (token, role)
        if key not in seen:
            if len(seen) >= self.keep:
                del seen[self._order.popleft()]
            self._order.append(key)
        if role not in self._roles:
            self._roles[role] = None
        body = getattr(answer, "body", b"")
        if len(request) > _KEEP_BYTES:  # an upload or a video: keep its start, never the whole of it
            request = request[: _KEEP_BYTES + 1]
        if len(body) > _KEEP_BYTES:
            body = body[: _KEEP_BYTES + 1]
        kind = answer.media_type or ""
        seen[key] = (time.time(), scope["method"], scope["path"], scope["query_string"], status, request, body, kind)

    def of(self, token: str) -> dict[str, dict[str, Any]]:
        found = ((role, self._seen.get((token, role))) for role in self._roles)
        return {role: _as_dict(seen) for role, seen in found if seen is not None}


def variants_of(dialect: Dialect) -> dict[str, str]:
    """The variants a dialect serves (video, thumbnail, spritesheet) and their media types."""
    for op in dialect.by_role("download"):
        if op.variants:
            return dict(op.variants)
    return {"video": "video/mp4"}


def media_of(record: OperationRecord, variant: str, media_type: str) -> bytes:
    """The bytes the dialect's download would serve for ``record`` (which must have succeeded)."""
    inputs = record.inputs
    width, height = int(inputs["width"]), int(inputs["height"])
    if variant == "thumbnail":
        return webp(width, height) if media_type == "image/webp" else jpeg_image(width, height)
    if variant == "spritesheet":
        return spritesheet(width, height)
    return render_mp4(width, height, float(inputs["duration_s"]), int(inputs["fps"]))


def detail(summary: dict[str, Any], record: OperationRecord, now: float, exchanges: Exchanges, dialect: Dialect | None) -> dict[str, Any]:
    """Everything the operation page shows, besides its webhook deliveries."""
    succeeded = state_at(record, now).state == "succeeded"
    variants = variants_of(dialect) if dialect is not None else {"video": "video/mp4"}
    return {
        **summary,
        "timeline": [{"state": state, "at": at} for state, at in timeline(record) if at <= now],
        "planned": [{"state": state, "at": at} for state, at in timeline(record) if at > now],
        "scenario": {"outcome": record.outcome, "forced": record.forced_state, "queued_s": record.queued_s, "running_s": record.running_s},
        "exchanges": exchanges.of(record.token),
        "media": {name: kind for name, kind in variants.items()} if succeeded else {},
        "title": dialect.title if dialect is not None else record.dialect,
    }


def asset(name: str) -> Response:
    """One file of the page (``index.html``, ``app.js``, ``style.css``), served from the package."""
    data = files("mockserver").joinpath("ui", name).read_bytes()
    return Response(data, media_type=_ASSETS[name], headers={"cache-control": "no-cache"})


def asset_names() -> tuple[str, ...]:
    return tuple(_ASSETS)
