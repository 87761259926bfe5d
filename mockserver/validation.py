"""Request validation against the dialect's document, compiled once per operation.

Every parameter schema and the request-body schema become compiled
``jsonschema_rs`` validators at start-up; the request path only coerces strings
and runs them. All violations are collected, not just the first, so the error a
client gets lists everything wrong with its request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

from videogen.coercion import coerce, needs_coercion
from videogen.dialect import Operation

__all__ = ["Parsed", "RequestValidator", "Violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}" if self.field else self.description


@dataclass(slots=True)
class Parsed:
    """A request after validation: typed parameters and the decoded body."""

    path: dict[str, Any]
    query: dict[str, Any]
    headers: Mapping[str, str]
    body: Any
    violations: list[Violation]

    @classmethod
    def empty(cls) -> Parsed:
        return cls({}, {}, {}, None, [])


# Keywords that never reject a value: a schema of only these and ``type: string``
# accepts every raw parameter, so it needs no validator on the request path.
_ANNOTATIONS = frozenset({"description", "example", "examples", "title", "default", "deprecated", "$comment"})


class _Param:
    __slots__ = ("coerce", "location", "name", "required", "validator", "where", "wire_name")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.location = spec["in"]
        self.name = spec["name"]
        self.where = f"{self.location} parameter {self.name!r}"
        self.wire_name = self.name.lower() if self.location == "header" else self.name
        self.required = bool(spec.get("required", self.location == "path"))
        schema = spec.get("schema") or {}
        self.coerce = schema if needs_coercion(schema) else None
        accepts_any_string = schema.get("type") == "string" and set(schema) - {"type"} <= _ANNOTATIONS
        self.validator = jsonschema_rs.validator_for(schema) if schema and not accepts_any_string else None

    def check(self, raw: str | None, out: dict[str, Any], violations: list[Violation]) -> None:
        if raw is None:
            if self.required:
                violations.append(Violation(self.name, f"{self.where} is required"))
            return
        value = coerce(raw, self.coerce) if self.coerce is not None else raw
        if self.validator is not None and not self.validator.is_valid(value):  # is_valid is the cheap common case
            for error in self.validator.iter_errors(value):
                violations.append(Violation(self.name, f"{self.where}: {error.message}"))
        out[self.name] = value


MAX_JSON_DEPTH = 64


def _too_deep(document: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels (iterative: no recursion)."""
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class RequestValidator:
    """Validates one operation's requests; built once at start-up."""

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.params = [_Param(p) for p in operation.parameters if p["in"] in ("path", "query", "header")]
        self.body_required = operation.body_required
        self.body_schema = operation.body_schema
        self.body_validator = jsonschema_rs.validator_for(operation.body_schema) if operation.body_schema else None
        self.takes_body = operation.body_schema is not None

    def validate(self, path: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Parsed:
        violations: list[Violation] = []
        typed_path: dict[str, Any] = {}
        typed_query: dict[str, Any] = {}
        for param in self.params:
            if param.location == "path":
                param.check(path.get(param.name), typed_path, violations)
            elif param.location == "query":
                param.check(query.get(param.name), typed_query, violations)
            else:
                param.check(headers.get(param.wire_name), {}, violations)
        return Parsed(typed_path, typed_query, headers, self._body(headers, body, violations), violations)

    def _body(self, headers: Mapping[str, str], body: bytes, violations: list[Violation]) -> Any:
        if not self.takes_body:
            return None
        if not body.strip():
            if self.body_required:
                violations.append(Violation("body", "a JSON request body is required"))
            return None
        content_type = headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if media and media != "application/json" and not media.endswith("+json"):
            violations.append(Violation("body", f"Content-Type must be application/json, got {media!r}"))
            return None
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            message = f"JSON nested deeper than {MAX_JSON_DEPTH} levels" if "depth" in str(exc) else f"malformed JSON: {exc}"
            violations.append(Violation("body", message))
            return None
        if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _too_deep(document, MAX_JSON_DEPTH):
            violations.append(Violation("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels"))
            return None
        assert self.body_validator is not None
        if self.body_validator.is_valid(document):  # cheaper than collecting no errors
            return document
        for error in self.body_validator.iter_errors(document):
            field = ".".join(str(p) for p in error.instance_path) or "body"
            violations.append(Violation(field, error.message))
        return document
