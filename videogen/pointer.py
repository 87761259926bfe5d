"""JSON pointers (RFC 6901), compiled once into a tuple of steps.

Dialect documents say where things live in a vendor's JSON ("/response/videos",
"/instances/0/prompt"). The mock reads request bodies through them and the
conformance kit reads response bodies through them, so both sides agree on
every location by construction.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["MISSING", "Pointer"]


class _Missing:
    """Marker for 'nothing at this location' (distinct from JSON null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


def _is_index(step: str) -> bool:
    return step.isascii() and step.isdigit()  # "²".isdigit() too, but int() refuses it


@dataclass(frozen=True, slots=True)
class Pointer:
    """A parsed JSON pointer. ``Pointer.parse("")`` points at the whole document."""

    text: str
    steps: tuple[str, ...]
    # The steps as Python would index: digits as ints, so lists index directly. Only the
    # fast path of ``get`` uses them; an object with a key such as "0" takes the careful walk.
    keys: tuple[str | int, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.keys and self.steps:
            object.__setattr__(self, "keys", tuple(int(s) if _is_index(s) else s for s in self.steps))

    @classmethod
    def parse(cls, text: str) -> Pointer:
        if text == "":
            return cls(text, ())
        if not text.startswith("/"):
            raise ValueError(f"a JSON pointer starts with '/', got {text!r}")
        steps = tuple(s.replace("~1", "/").replace("~0", "~") for s in text[1:].split("/"))
        return cls(text, steps)

    def get(self, document: Any) -> Any:
        """The value at this pointer, or ``MISSING`` when any step does not exist."""
        node = document
        for key in self.keys:  # the common case: objects, and lists by index
            if node.__class__ is str:  # which an int would index too
                break
            try:
                node = node[key]
            except (KeyError, TypeError, IndexError):
                break
        else:
            return node
        node = document  # anything else takes the careful walk
        for step in self.steps:
            if isinstance(node, dict):
                if step not in node:
                    return MISSING
                node = node[step]
            elif isinstance(node, list):
                if not _is_index(step) or int(step) >= len(node):
                    return MISSING
                node = node[int(step)]
            else:
                return MISSING
        return node

    def set(self, document: Any, value: Any) -> Any:
        """A copy of ``document`` with ``value`` at this pointer (missing objects are created)."""
        if not self.steps:
            return value
        root = copy.deepcopy(document) if document is not None else {}
        node = root
        for step, nxt in zip(self.steps, self.steps[1:], strict=False):
            fresh: Any = [] if _is_index(nxt) else {}
            if not isinstance(node, list):
                node = node.setdefault(step, fresh)
            elif int(step) == len(node):  # one past the end: a new element
                node.append(fresh)
                node = fresh
            else:
                node = node[int(step)]
        last = self.steps[-1]
        if isinstance(node, list):
            index = int(last)
            if index == len(node):
                node.append(value)
            else:
                node[index] = value
        else:
            node[last] = value
        return root

    def __str__(self) -> str:
        return self.text
