"""Resolve local ``$ref``s of an OpenAPI document into one inlined tree.

Our dialect documents use only local references (``#/components/...``). Resolving
them once at load time lets every later consumer (the compiled request
validators, the response renderer, the conformance kit) work on plain trees.
"""

from __future__ import annotations

from typing import Any

from videogen.errors import SpecError
from videogen.pointer import MISSING, Pointer

__all__ = ["resolve_refs"]


def resolve_refs(document: dict[str, Any], source: str) -> dict[str, Any]:
    """Return a copy of ``document`` with every local ``$ref`` replaced by its target."""
    cache: dict[str, Any] = {}

    def walk(node: Any, where: str, active: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if not ref.startswith("#"):
                    raise SpecError(source, where, f"only local $refs are supported, got {ref!r}")
                if ref in active:
                    raise SpecError(source, where, f"$ref cycle through {ref!r} is not supported")
                if ref not in cache:
                    target = Pointer.parse(ref[1:]).get(document)
                    if target is MISSING:
                        raise SpecError(source, where, f"$ref {ref!r} points at nothing")
                    cache[ref] = walk(target, ref[1:], (*active, ref))
                siblings = {k: v for k, v in node.items() if k != "$ref"}
                if not siblings:
                    return cache[ref]
                # OpenAPI 3.1 allows keywords beside $ref (e.g. a description): merge them.
                merged = dict(cache[ref]) if isinstance(cache[ref], dict) else {}
                merged.update(walk(siblings, where, active))
                return merged
            return {k: walk(v, f"{where}/{k}", active) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{where}/{i}", active) for i, v in enumerate(node)]
        return node

    resolved = walk(document, "", ())
    assert isinstance(resolved, dict)
    return resolved
