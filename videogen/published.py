"""What the vendor published, without what the mock had to invent (``x-videogen-choice``).

A dialect document holds the vendor's contract and the choices the mock made where
the vendor was silent, each marked ``x-videogen-choice: <why>``: on an operation (a
create or download route the vendor never documented), a parameter, a response (a
status the vendor never named), a schema property, or an error kind. The mock
serves all of it; the conformance kit judges a vendor on the published part only.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["CHOICE", "is_choice", "published_document"]

CHOICE = "x-videogen-choice"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def is_choice(node: Any) -> bool:
    """Whether ``node`` (an operation, parameter, response, schema or error kind) is the mock's own choice."""
    return isinstance(node, dict) and bool(node.get(CHOICE))


def published_document(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` without the operations, parameters, responses and properties the mock chose."""
    out = copy.deepcopy(document)
    for item in (out.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        for method in [m for m in _METHODS if is_choice(item.get(m))]:
            del item[method]
        item["parameters"] = [p for p in item.get("parameters") or [] if not is_choice(p)]
        for method in _METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                op["parameters"] = [p for p in op.get("parameters") or [] if not is_choice(p)]
                op["responses"] = {k: v for k, v in (op.get("responses") or {}).items() if not is_choice(v)}
    _strip_properties(out)
    return out


def _strip_properties(node: Any) -> None:
    """Remove chosen properties from every schema (and from its ``required``), iteratively."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            properties = current.get("properties")
            if isinstance(properties, dict):
                chosen = [name for name, schema in properties.items() if is_choice(schema)]
                for name in chosen:
                    del properties[name]
                if chosen and isinstance(current.get("required"), list):
                    current["required"] = [r for r in current["required"] if r not in chosen]
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
