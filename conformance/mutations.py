"""Invalid create bodies, derived from the document's own example and schema.

Each mutation breaks the contract in one named way (malformed JSON, a missing
required field, a wrong type, a value outside an enum or a range), so a report can
say exactly which rule the server let through. The kit sends a mutation only after
:class:`conformance.wire.WireValidator` confirms it is invalid.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from videogen.pointer import MISSING, Pointer

__all__ = ["Mutation", "mutations"]

_WRONG: dict[str, Any] = {
    "string": 12345,
    "integer": "not-a-number",
    "number": "not-a-number",
    "boolean": "not-a-boolean",
    "array": {"not": "an array"},
    "object": "not-an-object",
}
_ORDER = ("malformed", "missing", "type", "enum", "range", "shape")


@dataclass(frozen=True, slots=True)
class Mutation:
    kind: str  # one of _ORDER
    label: str  # e.g. "missing required field /instances/0/prompt"
    body: bytes


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    return [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]


def _walk(schema: dict[str, Any], value: Any, at: str) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(pointer, schema, value) for the example and every documented property inside it."""
    yield at, schema, value
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict):
                child = f"{at}/{name.replace('~', '~0').replace('/', '~1')}"
                yield from _walk(sub, value.get(name, MISSING), child)
    elif isinstance(value, list) and value and isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], value[0], f"{at}/0")


def _variants(schema: dict[str, Any], value: Any, at: str) -> Iterator[tuple[str, str, Any]]:
    """(kind, label, replacement) for one location; MISSING values are absent optional fields."""
    types = _types(schema)
    enum = schema.get("enum")
    if enum and all(isinstance(v, str) for v in enum):
        yield "enum", f"{at}: a value outside the enum {enum}", "conformance-not-in-enum"
    elif enum and all(isinstance(v, int) and not isinstance(v, bool) for v in enum):
        yield "enum", f"{at}: a value outside the enum {enum}", max(enum) + 1
    if value is MISSING:
        return
    for kind in types[:1]:
        if kind in _WRONG and "null" not in types:
            yield "type", f"{at}: {type(_WRONG[kind]).__name__} instead of {kind}", _WRONG[kind]
    if "integer" in types or "number" in types:
        if isinstance(schema.get("maximum"), (int, float)):
            yield "range", f"{at}: {schema['maximum'] + 1} is above the maximum {schema['maximum']}", schema["maximum"] + 1
        if isinstance(schema.get("minimum"), (int, float)):
            yield "range", f"{at}: {schema['minimum'] - 1} is below the minimum {schema['minimum']}", schema["minimum"] - 1
    if "string" in types and isinstance(schema.get("minLength"), int) and schema["minLength"] > 0:
        yield "range", f"{at}: shorter than minLength {schema['minLength']}", ""
    if "array" in types and isinstance(schema.get("minItems"), int) and schema["minItems"] > 0:
        yield "range", f"{at}: fewer items than minItems {schema['minItems']}", []
    if "array" in types and isinstance(schema.get("maxItems"), int) and isinstance(value, list) and value:
        yield "range", f"{at}: more items than maxItems {schema['maxItems']}", [value[0]] * (schema["maxItems"] + 1)


def mutations(schema: dict[str, Any] | None, example: Any) -> list[Mutation]:
    """Invalid bodies, one kind of each first (malformed, missing, type, enum, range, shape), then the rest."""
    if schema is None or example is None:
        return []
    text = json.dumps(example, ensure_ascii=False)
    found: list[Mutation] = [Mutation("malformed", "malformed JSON (the example, truncated)", text[:-1].encode("utf-8"))]
    for at, sub, value in _walk(schema, example, ""):
        if isinstance(value, dict):
            for name in sub.get("required") or []:
                if name in value:
                    smaller = copy.deepcopy(value)
                    del smaller[name]
                    body = Pointer.parse(at).set(example, smaller)
                    found.append(Mutation("missing", f"missing required field {at}/{name}", _encode(body)))
        for kind, label, replacement in _variants(sub, value, at or "/"):
            if at:
                found.append(Mutation(kind, label, _encode(Pointer.parse(at).set(example, replacement))))
    if "object" in _types(schema):
        found.append(Mutation("shape", "a JSON array where an object is documented", b"[]"))
    firsts = [next(m for m in found if m.kind == kind) for kind in _ORDER if any(m.kind == kind for m in found)]
    return firsts + [m for m in found if m not in firsts]


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
