"""What a template may read: the shape of each context, defined once.

The simulator builds its contexts from :data:`OPERATION` (it looks up a provider
for every name here, so the two cannot drift apart), and the loader checks every
dotted name a template reads against the same shapes before the first request:
``{videos.0.href}`` or ``{error.mesage}`` is a load error, never a 500.

A shape is a :class:`Leaf` (a value: no further steps), a :class:`Fields` (an
object with named fields), or a :class:`Items` (a list: the next step is an
index, or ``*`` inside ``$each``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ERROR",
    "ERROR_DETAILS",
    "EVENT",
    "IDENTITY",
    "LIST",
    "OPERATION",
    "RESULT_URL",
    "STATIC",
    "UNKNOWN",
    "VIDEO",
    "Fields",
    "Items",
    "Leaf",
    "Shape",
    "problem",
]


@dataclass(frozen=True, slots=True)
class Leaf:
    """A value a template prints as a whole (a string, a number, a list of strings...)."""

    indexable: bool = False  # a list of leaves, which a dotted name may index


@dataclass(frozen=True, slots=True)
class Fields:
    fields: Mapping[str, Shape] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Items:
    item: Shape


Shape = Leaf | Fields | Items
LEAF = Leaf()


def leaves(*names: str) -> dict[str, Shape]:
    return dict.fromkeys(names, LEAF)


VIDEO = Fields(
    {
        **leaves("index", "file", "url", "width", "height", "duration_s", "duration", "fps", "mime", "b64", "gcs_uri", "data_uri"),
        "variants": Fields(leaves("thumbnail", "spritesheet")),
    }
)

# Names an identity template (id, name) reads, besides the identity fields themselves.
IDENTITY = Fields(leaves("token", "model", "created_s"))

# The context of every create, poll, list item and webhook template. ``vars`` and
# ``input`` are filled in per dialect (see ``operation_shape``).
OPERATION = Fields(
    {
        **leaves("id", "name", "token", "model", "state", "progress", "progress_fraction", "base_url", "request_id"),
        # times: seconds, milliseconds, ISO 8601 (2026-01-01T00:00:00.000Z) and "dt" (2026-01-01 00:00:00.000), UTC
        **{
            f"{stem}_{unit}": LEAF for stem in ("created", "updated", "started", "finished", "expires") for unit in ("s", "ms", "iso", "dt")
        },
        "vars": Fields(),
        "input": Fields(),
        "source": Fields(leaves("id", "name", "token")),
        "videos": Items(VIDEO),
        "error": Fields(leaves("code", "reason", "message")),
        "filter": Fields({**leaves("count", "reason", "code", "message"), "reasons": Leaf(indexable=True)}),
    }
)

# A list answer: the rendered items and where the page stands.
LIST = Fields(
    {
        **leaves("items", "count", "has_more", "first_id", "last_id", "total", "limit", "offset", "page", "next_page", "order"),
        **leaves("base_url", "request_id"),
    }
)
# An answer that is the same for every operation (a webhook signing secret, a ping).
STATIC = Fields(leaves("base_url", "request_id", "webhook_secret"))
# A poll's answer for an id that names none of the caller's operations (where a vendor answers 200).
UNKNOWN = Fields(leaves("id", "base_url", "request_id"))
# What an event body reads besides the operation: the event itself.
EVENT = Fields(leaves("id", "name", "created_s", "created_ms", "created_iso"))

RESULT_URL = Fields({**leaves("base_url", "file", "index", "id", "name", "token", "model"), "vars": Fields()})
ERROR = Fields({**leaves("code", "message", "reason", "details", "field", "request_id"), "kind": Fields()})
ERROR_DETAILS = Fields({"violations": Items(Fields(leaves("field", "description")))})


def with_fields(shape: Fields, **extra: Fields) -> Fields:
    """``shape`` with some of its open fields (``vars``, ``input``, ``kind``) given their names."""
    return Fields({**shape.fields, **extra})


def problem(shape: Shape, path: tuple[str, ...]) -> str | None:
    """Why ``path`` cannot be read from a context of ``shape``, or None when it can."""
    node: Shape = shape
    for i, step in enumerate(path):
        here = ".".join(path[: i + 1])
        if isinstance(node, Fields):
            if step not in node.fields:
                known = ", ".join(sorted(node.fields)) or "nothing"
                at = ".".join(path[:i]) or "the context"
                return f"unknown name {here!r} ({at} has: {known})"
            node = node.fields[step]
        elif isinstance(node, Items):
            if not (step == "*" or (step.isascii() and step.isdigit())):
                return f"{'.'.join(path[:i])!r} is a list: {here!r} must index it with a number"
            node = node.item
        elif node.indexable and step.isascii() and step.isdigit():
            node = LEAF
        else:
            return f"{'.'.join(path[:i])!r} is a value, it has no {step!r}"
    return None
