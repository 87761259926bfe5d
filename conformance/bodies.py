"""A request body in the media type an operation documents first: JSON, or a multipart form.

A client library sends what its vendor documents (the OpenAI SDK always posts a
multipart form), so the kit creates the same way; a document that lists JSON
first gets JSON.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from conformance.client import encode_json
from videogen.dialect import Operation

__all__ = ["FORM", "encode_body", "first_media"]

FORM = "multipart/form-data"


def first_media(op: Operation) -> str:
    """The media type the document lists first for the operation's request body."""
    return next(iter(op.body_schemas), "application/json")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def encode_body(op: Operation, body: Any, media: str | None = None) -> tuple[dict[str, str], bytes]:
    """(headers, bytes) for ``body`` in ``media`` (default: the operation's first media type)."""
    media = media or first_media(op)
    if media == FORM and isinstance(body, dict):
        boundary = f"videogen{uuid.uuid4().hex}"
        parts = []
        for name, value in body.items():
            if value is None:
                continue
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{_text(value)}\r\n'.encode())
        payload = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return {"content-type": f"{FORM}; boundary={boundary}"}, payload
    return {"content-type": "application/json"}, encode_json(body)
