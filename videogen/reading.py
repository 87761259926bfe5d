"""Reading a dialect's answers as a client does: the ``x-videogen.read`` half of the model.

The conformance kit uses this to judge any endpoint, and the mock's own tests use
it to drive every dialect through one generic flow. Nothing here knows a vendor.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from videogen.dialect import Dialect, Operation, ReadModel
from videogen.pointer import MISSING, Pointer

__all__ = [
    "CreateRequest",
    "PollRequest",
    "ResultRef",
    "classify",
    "create_request",
    "credentials",
    "handle_of",
    "poll_request",
    "results_of",
]

# Where each state sits on the one-way path; 'pending' is queued-or-running.
ORDER = {"pending": 0, "queued": 0, "running": 1, "succeeded": 2, "failed": 2, "filtered": 2}
TERMINAL = frozenset({"succeeded", "failed", "filtered"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _holds(value: Any, expected: Any) -> bool:
    if expected == "$present":
        return value is not MISSING
    if expected == "$absent":
        return value is MISSING
    if expected == "$positive":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if expected == "$nonempty":
        return isinstance(value, (list, dict, str)) and len(value) > 0
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    return bool(value == expected)


def classify(read: ReadModel, body: Any) -> str | None:
    """The first state whose rule matches ``body``, or None when no rule does."""
    for rule in read.states:
        if all(_holds(pointer.get(body), expected) for pointer, expected in rule.when):
            return rule.state
    return None


def handle_of(read: ReadModel, body: Any) -> str | None:
    value = read.handle.get(body)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class PollRequest:
    method: str
    path: str  # relative to the dialect's base URL; the handle is inserted literally
    json: Any


def _fill(template: str, ctx: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: ctx.get(m.group(1), m.group(0)), template)


def _fill_tree(node: Any, ctx: dict[str, str]) -> Any:
    if isinstance(node, str):
        return _fill(node, ctx)
    if isinstance(node, dict):
        return {k: _fill_tree(v, ctx) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill_tree(v, ctx) for v in node]
    return node


def poll_request(read: ReadModel, handle: str, **extra: str) -> PollRequest:
    """How to poll ``handle``: names with slashes go into the path literally, never percent-encoded."""
    ctx = {"handle": handle, **extra}
    path = _fill(read.poll_path, ctx)
    if read.poll_query:
        path += "?" + urlencode({k: _fill(v, ctx) for k, v in read.poll_query.items()})
    body = _fill_tree(read.poll_body, ctx) if read.poll_body is not None else None
    return PollRequest(read.poll_method, path, body)


@dataclass(frozen=True, slots=True)
class ResultRef:
    """One result: a URL to fetch, or inline base64 bytes (or neither, which is a defect)."""

    index: int
    url: str | None
    base64: str | None
    raw: Any


def _pick(pointer: Pointer | None, item: Any) -> str | None:
    if pointer is None:
        return None
    value = pointer.get(item)
    return value if isinstance(value, str) and value else None


def results_of(read: ReadModel, body: Any) -> list[ResultRef] | None:
    """The results a finished operation carries; None when the location holds nothing."""
    node = read.results.get(body)
    if node is MISSING or node is None:
        return None
    items = node if isinstance(node, list) else [node]
    return [ResultRef(i, _pick(read.result_url, item), _pick(read.result_base64, item), item) for i, item in enumerate(items)]


def credentials(schemes: dict[str, dict[str, Any]], security: tuple[str, ...], key: str) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query) that carry ``key`` the way the first security scheme asks."""
    for name in security:
        scheme = schemes[name]
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            return {"Authorization": f"Bearer {key}"}, {}
        if scheme.get("type") == "apiKey":
            if scheme.get("in") == "query":
                return {}, {scheme["name"]: key}
            return {scheme["name"]: key}, {}
    return {}, {}


@dataclass(frozen=True, slots=True)
class CreateRequest:
    method: str
    path: str
    json: Any
    path_params: dict[str, str]


def _example_of(param: dict[str, Any]) -> str | None:
    schema = param.get("schema") or {}
    for value in (param.get("example"), schema.get("example"), *(schema.get("examples") or [None])[:1], schema.get("default")):
        if value is not None:
            return str(value)
    return None


def create_request(dialect: Dialect, *, prompt_suffix: str = "", body: Any = None, operation: Operation | None = None) -> CreateRequest:
    """A valid create request built from the document: its example body, path-parameter
    examples, and ``prompt_suffix`` appended to the prompt (e.g. ``" [mock:fail]"``)."""
    op = operation or dialect.by_role("create")[0]
    params = {p["name"]: _example_of(p) or "x" for p in op.parameters if p["in"] == "path"}
    path = _PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), op.path)
    document = copy.deepcopy(body if body is not None else dialect.read.example)
    if prompt_suffix:
        for inp in op.inputs:
            if inp.name == "prompt" and inp.source.pointer is not None:
                current = inp.source.pointer.get(document)
                document = inp.source.pointer.set(document, f"{current if isinstance(current, str) else ''}{prompt_suffix}")
    return CreateRequest(op.method, path, document, params)
