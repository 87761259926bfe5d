"""A second valid create: the example, with every fully bounded parameter moved to an edge.

"Fully bounded" means an enum, a boolean, or a number with both a minimum and a
maximum: values the document promises to accept. Free-form strings stay as in the
example, and the inputs that drive the price (count, duration, resolution, a
storage URI) are never changed, so the sample costs what the example costs.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs

from videogen.dialect import Dialect, Operation
from videogen.pointer import MISSING, Pointer

__all__ = ["COST_INPUTS", "edge_sample"]

COST_INPUTS = frozenset({"count", "duration_s", "resolution", "width", "height", "storage_uri"})


def _edge(schema: dict[str, Any], current: Any) -> Any:
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[-1] if current != enum[-1] else enum[0]
    kind = schema.get("type")
    if kind == "boolean":
        return not current if isinstance(current, bool) else True
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(low, (int, float)) and isinstance(high, (int, float)):
            step = schema.get("multipleOf")
            value = high - (high % step) if isinstance(step, (int, float)) and step > 0 else high
            return int(value) if kind == "integer" else value
    return MISSING


def edge_sample(dialect: Dialect, op: Operation) -> Any:
    """A valid body unlike the example, or None when the schema leaves nothing to vary."""
    example, schema = dialect.read.example, op.body_schema
    if not isinstance(example, dict) or not isinstance(schema, dict):
        return None
    declared = op.inputs.inputs if op.inputs is not None else ()
    fixed = {inp.source.pointer.text for inp in declared if set(inp.produces) & COST_INPUTS and inp.source.pointer is not None}
    body = copy.deepcopy(example)

    def visit(sub: dict[str, Any], value: Any, at: str) -> None:
        nonlocal body
        if isinstance(value, dict):
            for name, child in (sub.get("properties") or {}).items():
                if not isinstance(child, dict):
                    continue
                where = f"{at}/{name.replace('~', '~0').replace('/', '~1')}"
                current = value.get(name, MISSING)
                if isinstance(current, (dict, list)):
                    visit(child, current, where)
                elif where not in fixed:
                    edge = _edge(child, current)
                    if edge is not MISSING:
                        body = Pointer.parse(where).set(body, edge)
        elif isinstance(value, list) and value and isinstance(sub.get("items"), dict):
            visit(sub["items"], value[0], f"{at}/0")

    visit(schema, example, "")
    if body == example or not jsonschema_rs.validator_for(schema).is_valid(body):
        return None
    return body
