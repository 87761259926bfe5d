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
from starlette.datastructures import QueryParams

from mockserver.multipart import FilePart, MultipartError, parse_form, sniff
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
    __slots__ = ("coerce", "items", "location", "name", "required", "validator", "where", "wire_name")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.location = spec["in"]
        self.name = spec["name"]
        self.where = f"{self.location} parameter {self.name!r}"
        self.wire_name = self.name.lower() if self.location == "header" else self.name
        self.required = bool(spec.get("required", self.location == "path"))
        schema = spec.get("schema") or {}
        self.coerce = schema if needs_coercion(schema) else None
        # An array in the query (style form, exploded): ?id=a&id=b, each item read as its schema's type.
        self.items: dict[str, Any] | None = (schema.get("items") or {}) if schema.get("type") == "array" else None
        accepts_any_string = schema.get("type") == "string" and set(schema) - {"type"} <= _ANNOTATIONS
        self.validator = jsonschema_rs.validator_for(schema) if schema and not accepts_any_string else None

    def check(self, raw: str | list[str] | None, out: dict[str, Any], violations: list[Violation]) -> None:
        if raw is None or raw == []:
            if self.required:
                violations.append(Violation(self.name, f"{self.where} is required"))
            return
        value: Any
        if isinstance(raw, list):
            value = [coerce(v, self.items) for v in raw] if self.items and needs_coercion(self.items) else raw
        else:
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


_JSON = "application/json"
_FORM = "multipart/form-data"


def _accepts(allowed: tuple[str, ...], media: str | None) -> bool:
    if media is None:
        return False
    return any(a == media or (a.endswith("/*") and media.startswith(a[:-1])) or a == "*/*" for a in allowed)


class RequestValidator:
    """Validates one operation's requests; built once at start-up."""

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.params = [_Param(p) for p in operation.parameters if p["in"] in ("path", "query", "header")]
        self.body_required = operation.body_required
        self.validators = {media: jsonschema_rs.validator_for(schema) for media, schema in operation.body_schemas.items()}
        self.form_fields = {
            name: schema
            for name, schema in ((operation.body_schemas.get(_FORM) or {}).get("properties") or {}).items()
            if isinstance(schema, dict) and needs_coercion(schema)
        }
        self.files = operation.files
        self.takes_body = bool(self.validators)
        self.media_types = " or ".join(self.validators)

    def validate(self, path: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Parsed:
        violations: list[Violation] = []
        typed_path: dict[str, Any] = {}
        typed_query: dict[str, Any] = {}
        for param in self.params:
            if param.location == "path":
                param.check(path.get(param.name), typed_path, violations)
            elif param.location == "query":
                if param.items is not None and isinstance(query, QueryParams):
                    param.check(query.getlist(param.name), typed_query, violations)
                else:
                    param.check(query.get(param.name), typed_query, violations)
            else:
                param.check(headers.get(param.wire_name), {}, violations)
        return Parsed(typed_path, typed_query, headers, self._body(headers, body, violations), violations)

    def _body(self, headers: Mapping[str, str], body: bytes, violations: list[Violation]) -> Any:
        if not self.takes_body:
            return None
        if not body.strip():
            if self.body_required:
                violations.append(Violation("body", f"a request body ({self.media_types}) is required"))
            return None
        content_type = headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if media == _FORM and _FORM in self.validators:
            return self._form(content_type, body, violations)
        if (not media or media == _JSON or media.endswith("+json")) and _JSON in self.validators:
            return self._json(body, violations)
        violations.append(Violation("body", f"Content-Type must be {self.media_types}, got {media or 'none'!r}"))
        return None

    def _json(self, body: bytes, violations: list[Violation]) -> Any:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            message = f"JSON nested deeper than {MAX_JSON_DEPTH} levels" if "depth" in str(exc) else f"malformed JSON: {exc}"
            violations.append(Violation("body", message))
            return None
        if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _too_deep(document, MAX_JSON_DEPTH):
            violations.append(Violation("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels"))
            return None
        return self._schema(_JSON, document, document, violations)

    def _schema(self, media: str, checked: Any, document: Any, violations: list[Violation]) -> Any:
        validator = self.validators[media]
        if validator.is_valid(checked):  # cheaper than collecting no errors
            return document
        for error in validator.iter_errors(checked):
            field = ".".join(str(p) for p in error.instance_path) or "body"
            violations.append(Violation(field, error.message))
        return document

    def _form(self, content_type: str, body: bytes, violations: list[Violation]) -> Any:
        """A multipart form: text fields read as their property's type, file parts checked by their bytes."""
        try:
            form = parse_form(content_type, body)
        except MultipartError as exc:
            violations.append(Violation("body", str(exc)))
            return None
        document: dict[str, Any] = {}
        checked: dict[str, Any] = {}
        for name, value in form.items():
            if isinstance(value, FilePart):
                document[name] = value.describe()
                checked[name] = value.filename or "file"  # a binary string to the schema; its bytes are checked below
                self._file(name, value, violations)
            else:
                schema = self.form_fields.get(name)
                document[name] = checked[name] = coerce(value, schema) if schema is not None else value
        for name in self.files:
            if not isinstance(form.get(name, ""), FilePart) and name in form:
                violations.append(Violation(name, f"{name!r} must be a file part (with a filename), not a text field"))
        return self._schema(_FORM, checked, document, violations)

    def _file(self, name: str, part: FilePart, violations: list[Violation]) -> None:
        rule = self.files.get(name)
        if rule is None:
            return
        if rule.max_bytes is not None and len(part.data) > rule.max_bytes:
            violations.append(Violation(name, f"the file is {len(part.data)} bytes; the limit is {rule.max_bytes} bytes"))
        actual = sniff(part.data)
        if rule.media_types and not _accepts(rule.media_types, actual):
            what = actual or f"not a recognised format (labelled {part.content_type})"
            violations.append(Violation(name, f"the file is {what}; expected {', '.join(rule.media_types)}"))
