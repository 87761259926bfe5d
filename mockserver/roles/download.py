"""``download``: serve a result's bytes to its owner (or to a signed URL), with ``Range``."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.errors import VendorError
from mockserver.media import render_mp4
from mockserver.ranges import RangeError, byte_range
from mockserver.responses import empty, media
from mockserver.signing import HOP

__all__ = ["download"]


async def download(ep: Endpoint, call: Call) -> Response:
    assert ep.op.file_source is not None
    raw = ep.op.file_source.read(call.parsed)
    located = ep.sim.locate_file(raw) if isinstance(raw, str) else None
    record = await ep.runtime.store.get(located[0]) if located else None
    now = await ep.runtime.now()
    hop = call.hop
    if record is not None and hop is not None:
        signer = await ep.runtime.signer()
        if signer.verify(hop, str(raw), now) != hop[:1]:
            record = None  # a forged or expired signed URL
    must_own = (bool(ep.op.credentials) and hop is None) or (hop is not None and hop.startswith("k"))
    if located is None or record is None or record.dialect != ep.dialect.name or (must_own and record.owner != call.owner):
        raise VendorError("not_found", f"File not found: {str(raw)[:200]}")
    fault = await ep.inject(call, record.model)
    if ep.sim.snapshot(record, now).state != "succeeded" or located[1] >= int(record.inputs["count"]):
        raise VendorError("not_found", f"File not found: {str(raw)[:200]}")
    if fault.redirect and hop is None:
        signer = await ep.runtime.signer()
        path = ep.op.route.expand({k: str(v) for k, v in call.parsed.path.items()}, encode=True)
        signed = signer.sign(str(raw), needs_key=fault.redirect_needs_key, now=now)
        query = urlencode({**{k: str(v) for k, v in call.parsed.query.items()}, HOP: signed})
        return empty(302, {"location": f"{ep.base_url(call)}{path}?{query}", "cache-control": "no-store"})
    inputs = record.inputs
    data = render_mp4(int(inputs["width"]), int(inputs["height"]), float(inputs["duration_s"]), int(inputs["fps"]))
    headers = {"cache-control": "private, max-age=3600"}
    try:
        span = byte_range(call.headers.get("range"), len(data))
    except RangeError as exc:
        kind = "range_not_satisfiable" if "range_not_satisfiable" in ep.dialect.error_kinds else "invalid_request"
        raise VendorError(kind, str(exc), headers={**headers, "accept-ranges": "bytes", "content-range": f"bytes */{len(data)}"}) from None
    return media(data, "video/mp4", span, headers)
