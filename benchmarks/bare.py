"""The reference for the limit: a bare Starlette endpoint that returns a small JSON body.

Served by uvicorn with the same options as the mock (``python -m benchmarks`` starts it).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_BODY = b'{"name":"models/veo-3.0-generate-001/operations/abc123","done":false}'


async def endpoint(request: Request) -> Response:
    return Response(_BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])
