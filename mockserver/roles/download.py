"""``download``: serve a result's bytes to its owner (or to a signed URL), with ``Range``.

A download names its result by a file id (``file``) or by the operation's id
(``id``, results addressed by the operation); ``variant`` picks the video, a
thumbnail (a still of the video's size) or a spritesheet. After the dialect's
result lifetime, a download answers the dialect's expired error.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response

from mockserver.call import Call
from mockserver.endpoint import Endpoint
from mockserver.errors import VendorError
from mockserver.images import jpeg as jpeg_image
from mockserver.images import spritesheet, webp
from mockserver.media import render_mp4
from mockserver.ranges import RangeError, byte_range
from mockserver.record import OperationRecord
from mockserver.responses import empty, media
from mockserver.roles.poll import find
from mockserver.signing import HOP

__all__ = ["download"]


async def download(ep: Endpoint, call: Call) -> Response:
    if ep.op.id_source is not None:
        raw, record = await find(ep, call, ep.op.id_source)
        return await _serve(ep, call, record, raw, 0)
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
    if (
        located is None
        or record is None
        or record.deleted_at is not None
        or record.dialect != ep.dialect.name
        or (must_own and record.owner != call.owner)
    ):
        raise VendorError("not_found", f"File not found: {str(raw)[:200]}")
    call.token = record.token  # the inspector keeps this download with its operation
    return await _serve(ep, call, record, str(raw), located[1])


async def _serve(ep: Endpoint, call: Call, record: OperationRecord | None, raw: str, index: int) -> Response:
    fault = await ep.inject(call, record.model if record else None)
    if record is None:
        raise VendorError("not_found", f"File not found: {raw[:200]}")
    now = await ep.runtime.now()
    snap = ep.sim.snapshot(record, now)
    if snap.state != "succeeded" or index >= int(record.inputs["count"]):
        raise VendorError("not_found", f"File not found: {raw[:200]}")
    expires = ep.sim.expires_at(record, snap)
    if expires is not None and now >= expires:
        raise VendorError(ep.dialect.lifecycle.expired, f"The result of {raw[:200]} expired; results are kept for a limited time.")
    if fault.redirect and call.hop is None and ep.op.file_source is not None:
        signer = await ep.runtime.signer()
        path = ep.op.route.expand({k: str(v) for k, v in call.parsed.path.items()}, encode=True)
        signed = signer.sign(raw, needs_key=fault.redirect_needs_key, now=now)
        query = urlencode({**{k: str(v) for k, v in call.parsed.query.items()}, HOP: signed})
        return empty(302, {"location": f"{ep.base_url(call)}{path}?{query}", "cache-control": "no-store"})
    inputs = record.inputs
    width, height = int(inputs["width"]), int(inputs["height"])
    variant = ep.op.variant_source.read(call.parsed) if ep.op.variant_source is not None else "video"
    variant = variant if isinstance(variant, str) and variant in ep.op.variants else "video"
    content_type = ep.op.variants.get(variant, "video/mp4")
    if variant == "video":
        data = render_mp4(width, height, float(inputs["duration_s"]), int(inputs["fps"]))
    elif variant == "thumbnail":
        data = webp(width, height) if content_type == "image/webp" else jpeg_image(width, height)
    else:
        data = spritesheet(width, height)
    headers = {"cache-control": "private, max-age=3600"}
    try:
        span = byte_range(call.headers.get("range"), len(data))
    except RangeError as exc:
        kind = "range_not_satisfiable" if "range_not_satisfiable" in ep.dialect.error_kinds else "invalid_request"
        raise VendorError(kind, str(exc), headers={**headers, "accept-ranges": "bytes", "content-range": f"bytes */{len(data)}"}) from None
    return media(data, content_type, span, headers)
