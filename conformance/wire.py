"""Is a request valid on the wire? The kit's own reading of the document, used as a guard.

A generated "invalid" input is only sent when this confirms it breaks the contract
as the server will see it (strings in the path and query, bytes in the body), and a
generated "valid" input only when this confirms it is valid. So the kit never
blames a server for answering a request the document allows either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from videogen.coercion import coerce
from videogen.dialect import Operation

__all__ = ["WireValidator"]


class WireValidator:
    """Every way a concrete request breaks one operation's documented input."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.params = [
            (p, jsonschema_rs.validator_for(p["schema"]) if p.get("schema") else None)
            for p in op.parameters
            if p["in"] in ("path", "query", "header")
        ]
        json_schema = op.body_schemas.get("application/json")
        self.body = jsonschema_rs.validator_for(json_schema) if json_schema is not None else None
        self.takes_body = bool(op.body_schemas)

    def violations(self, path: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str], body: bytes | None) -> list[str]:
        found: list[str] = []
        lower_headers = {k.lower(): v for k, v in headers.items()}
        for param, validator in self.params:
            name, where = param["name"], param["in"]
            raw = path.get(name) if where == "path" else query.get(name) if where == "query" else lower_headers.get(name.lower())
            if raw is None or (where == "path" and raw == ""):
                if param.get("required", where == "path"):
                    found.append(f"{where} parameter {name!r} is required")
                continue
            if where == "path" and "/" in raw:
                found.append(f"path parameter {name!r} contains '/', so the path matches no route")
                continue
            if validator is not None:
                value = coerce(raw, param.get("schema") or {})
                found += [f"{where} parameter {name!r}: {e.message}" for e in validator.iter_errors(value)]
        found += self._body(lower_headers, body)
        return found

    def _body(self, headers: Mapping[str, str], body: bytes | None) -> list[str]:
        if not self.takes_body:
            return []
        if not body or not body.strip():
            return ["a request body is required"] if self.op.body_required else []
        media = headers.get("content-type", "application/json").split(";", 1)[0].strip().lower()
        if self.body is None or (media != "application/json" and not media.endswith("+json")):
            return [f"content type {media!r} is not one this operation documents ({', '.join(self.op.body_schemas)})"]
        try:
            document = json.loads(body, parse_constant=_reject_constant)
        except ValueError as exc:
            return [f"malformed JSON: {exc}"]
        return [f"body at /{'/'.join(str(p) for p in e.instance_path)}: {e.message}" for e in self.body.iter_errors(document)]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
