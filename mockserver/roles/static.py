"""``static``: an answer that is the same for every operation (a webhook signing secret, a ping)."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.responses import JSONBytes

__all__ = ["static"]


async def static(ep: Endpoint, call: Call) -> Response:
    assert ep.op.response is not None
    secret = ep.runtime.config.webhook_secret or ep.dialect.webhook_config.secret
    ctx = {"base_url": ep.base_url(call), "request_id": uuid.uuid4().hex, "webhook_secret": secret}
    return JSONBytes.of(ep.op.response.render(ctx), ep.op.status)
