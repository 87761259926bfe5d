"""A generic client for any dialect, driven only by its ``x-videogen.read`` model.

The mock's own tests use it to run every dialect through create, poll and
download without a line of vendor-specific code.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from videogen.dialect import Dialect
from videogen.reading import classify, create_request, credentials, data_url_bytes, handle_of, poll_request, required_headers, results_of


@dataclass
class Flow:
    dialect: Dialect
    handle: str
    model: str
    create_body: Any
    states: list[str] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)


def auth(dialect: Dialect, key: str) -> dict[str, str]:
    headers, _ = credentials(dialect.create, key)
    return {**required_headers(dialect), **headers}


def start(
    client: httpx.Client, dialect: Dialect, key: str = "key-1", *, prompt_suffix: str = "", headers: dict[str, str] | None = None
) -> Flow:
    req = create_request(dialect, prompt_suffix=prompt_suffix)
    r = client.request(req.method, f"/{dialect.name}{req.path}", json=req.json, headers={**auth(dialect, key), **(headers or {})})
    assert r.status_code == dialect.create.status, r.text
    handle = handle_of(dialect.read, r.json())
    assert handle, r.text
    return Flow(dialect, handle, req.path_params.get("model", ""), r.json())


def poll(client: httpx.Client, flow: Flow, key: str = "key-1") -> httpx.Response:
    req = poll_request(flow.dialect.read, flow.handle, model=flow.model)
    r = client.request(req.method, f"/{flow.dialect.name}{req.path}", json=req.json, headers=auth(flow.dialect, key))
    if r.status_code == 200:
        state = classify(flow.dialect.read, r.json())
        if state is None and unknown_answer(flow.dialect, r):
            return r  # the documented answer for an id that names none of this key's operations
        assert state is not None, f"no state rule matches {r.text}"
        flow.bodies.append(r.json())
        flow.states.append(state)
    return r


def unknown_answer(dialect: Dialect, r: httpx.Response) -> bool:
    """Whether ``r`` is how the dialect answers a poll of an id it does not know (a 404, or a documented 200)."""
    if r.status_code == dialect.error_kind("not_found").code:
        return True
    documented = any(op.unknown is not None and op.unknown_status == r.status_code for op in dialect.by_role("poll"))
    return documented and classify(dialect.read, r.json()) is None


def download(client: httpx.Client, flow: Flow, body: Any, key: str = "key-1") -> list[bytes]:
    refs = results_of(flow.dialect.read, body, handle=flow.handle, base_url=f"http://testserver/{flow.dialect.name}")
    assert refs, f"no results in {body}"
    out = []
    for ref in refs:
        if ref.base64:
            out.append(base64.b64decode(ref.base64))
            continue
        assert ref.url, ref.raw
        inline = data_url_bytes(ref.url)
        if inline is not None:
            out.append(inline)
            continue
        parts = urlsplit(ref.url)
        r = client.get(parts.path + (f"?{parts.query}" if parts.query else ""), headers=auth(flow.dialect, key))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "video/mp4"
        out.append(r.content)
    return out
