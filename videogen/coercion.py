"""Strings on the wire read as their schema's type: one rule for the mock and the kit.

Path, query and header parameters, and multipart form fields, arrive as text.
``coerce("4", {"type": "integer"})`` is 4; a value that does not read as any of
the schema's types stays a string, so the schema validator reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["coerce", "is_digits"]


def is_digits(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true, but ``int("²")`` refuses it."""
    return text.isascii() and text.isdigit()


def coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """``value`` as the first of the schema's types it reads as (integer, number, boolean)."""
    kind = schema.get("type")
    for k in kind if isinstance(kind, list) else [kind]:
        if k == "integer":
            try:
                return int(value)
            except ValueError:
                continue
        if k == "number":
            try:
                return float(value)
            except ValueError:
                continue
        if k == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def needs_coercion(schema: Mapping[str, Any]) -> bool:
    """Whether any of the schema's types is not a string (a string needs nothing)."""
    kind = schema.get("type")
    return any(k in ("integer", "number", "boolean") for k in (kind if isinstance(kind, list) else [kind]))
